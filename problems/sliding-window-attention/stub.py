import math

import torch


def sliding_window_attention(q, k, v, window):
    """Causal sliding-window attention.

    q: (..., L, d)   k: (..., L, d)   v: (..., L, dv)   window: int >= 1
    Query i attends to keys j with i - window < j <= i: itself and the window - 1
    previous positions (fewer at the start of the sequence).
    Returns (out, weights): out (..., L, dv), weights (..., L, L) with exact zeros
    outside the window.
    """
    raise NotImplementedError
