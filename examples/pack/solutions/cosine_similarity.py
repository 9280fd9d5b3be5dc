"""Reference solution for extras/cosine-similarity: short and readable, shapes in comments."""

import torch


def cosine_similarity(a, b, eps=1e-8):
    a_norm = torch.linalg.vector_norm(a, dim=1, keepdim=True).clamp_min(eps)   # (N, 1), each norm floored at eps
    b_norm = torch.linalg.vector_norm(b, dim=1, keepdim=True).clamp_min(eps)   # (M, 1)
    return (a / a_norm) @ (b / b_norm).T                                       # (N, D) @ (D, M) -> (N, M)
