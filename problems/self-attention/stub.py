import math

import torch
import torch.nn as nn


class SelfAttention(nn.Module):
    """Single-head self-attention.

    __init__(d_model, d_head, bias=True) creates exactly four nn.Linear layers:
        W_q, W_k, W_v: nn.Linear(d_model, d_head, bias=bias)
        W_o:           nn.Linear(d_head, d_model, bias=bias)
    forward(x, mask=None):
        x: (..., L, d_model); mask: None or broadcastable to (..., L, L), True/nonzero = may attend.
        Returns (out, weights): out (..., L, d_model), weights (..., L, L).
    """

    def __init__(self, d_model, d_head, bias=True):
        super().__init__()
        raise NotImplementedError

    def forward(self, x, mask=None):
        raise NotImplementedError
