import torch


def info_nce_loss(a, b, temperature=0.07, symmetric=True):
    """CLIP-style InfoNCE loss over a batch of N paired embeddings.

    a, b: (N, D) float tensors; (a[i], b[i]) is a positive pair, b[j] (j != i) are a[i]'s negatives.
    temperature: > 0; logits = cosine_similarity(a_i, b_j) / temperature, shape (N, N).
    symmetric: True  -> mean of the a->b (rows) and b->a (columns) cross-entropies (CLIP);
               False -> the a->b cross-entropy only.
    Returns a 0-dim tensor (mean over the N pairs).
    """
    raise NotImplementedError
