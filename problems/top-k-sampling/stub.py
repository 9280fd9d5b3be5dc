import torch


def top_k_sample(logits, k, num_samples, generator):
    """Top-k sampling.

    logits: (B, V) float tensor (may contain -inf); k: int >= 1 (may exceed V);
    num_samples: int; generator: torch.Generator (the only source of randomness).
    Returns (probs, samples): probs (B, V), the softmax over the kept tokens (every token
    whose logit >= the k-th largest logit of its row), 0 elsewhere, same dtype as logits;
    samples (B, num_samples) int64 token ids drawn with replacement from probs.
    """
    raise NotImplementedError
