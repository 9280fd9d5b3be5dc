import math

import torch


def scaled_dot_product_attention(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])     # (..., Lq, Lk)
    if mask is not None:
        scores = scores.masked_fill(mask == 0, float("-inf"))
    weights = torch.softmax(scores, dim=-1)                      # (..., Lq, Lk)
    return weights @ v, weights                                  # (..., Lq, dv), (..., Lq, Lk)
