import torch


def apply_rope(x, positions=None, base=10000.0):
    """Rotary position embedding, half-split layout: pairs (i, i + d/2).

    x: (..., L, d), d even
    positions: None (= arange(L)), or integer tensor (L,) / broadcastable to x.shape[:-1]
    Returns a tensor with the shape and dtype of x.
    """
    raise NotImplementedError
