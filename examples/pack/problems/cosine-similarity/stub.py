import torch


def cosine_similarity(a, b, eps=1e-8):
    """Pairwise cosine similarity, each norm floored at eps.

    a: (N, D)   b: (M, D)   eps: float >= 0
    Returns out (N, M): out[i, j] = a[i]·b[j] / (max(|a[i]|, eps) * max(|b[j]|, eps)), in a's dtype.
    """
    raise NotImplementedError
