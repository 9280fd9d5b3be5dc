import math

import torch


def flash_attention(q, k, v, block_q=64, block_k=64, causal=False):
    """Tiled attention with an online softmax (the FlashAttention forward pass).

    q: (..., Lq, d)   k: (..., Lk, d)   v: (..., Lk, dv)
    Returns softmax(q @ k^T / sqrt(d)) @ v, shape (..., Lq, dv), computed one
    (block_q, block_k) tile of scores at a time: no (Lq, Lk) score matrix may be built.
    causal=True (only with Lq == Lk): query i attends to keys 0..i.
    """
    raise NotImplementedError
