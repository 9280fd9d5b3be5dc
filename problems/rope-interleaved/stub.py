import torch


def apply_rope_interleaved(x, positions=None, base=10000.0):
    """Rotary position embedding, interleaved layout: pairs (x[2i], x[2i+1]).

    x: (..., L, d), d even.   positions: None (= arange(L)), or an integer tensor (L,) or broadcastable to x.shape[:-1].
    Pair i at position p is rotated by the angle p * base ** (-2i / d).
    Returns a tensor of the shape, dtype and device of x.
    """
    raise NotImplementedError
