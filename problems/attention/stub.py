import math

import torch


def scaled_dot_product_attention(q, k, v, mask=None):
    """Scaled dot-product attention.

    q: (..., Lq, d)   k: (..., Lk, d)   v: (..., Lk, dv)
    mask: None, or broadcastable to (..., Lq, Lk); True/nonzero = may attend.
    Returns (out, weights): out (..., Lq, dv), weights (..., Lq, Lk).
    """
    raise NotImplementedError
