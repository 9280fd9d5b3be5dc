import math

import torch


def sliding_window_attention(q, k, v, window):
    L = q.shape[-2]
    i = torch.arange(L, device=q.device)
    dist = i[:, None] - i[None, :]                                   # (L, L): query index - key index
    visible = (dist >= 0) & (dist < window)                          # itself and the window - 1 previous keys
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])        # (..., L, L)
    scores = scores.masked_fill(~visible, float("-inf"))
    weights = torch.softmax(scores, dim=-1)                          # (..., L, L)
    return weights @ v, weights                                      # (..., L, dv), (..., L, L)
