import math

import torch
import torch.nn as nn


class CachedSelfAttention(nn.Module):
    """Causal multi-head self-attention with a key/value cache for incremental decoding.

    __init__(d_model, num_heads): W_q, W_k, W_v, W_o = nn.Linear(d_model, d_model) (with bias).
    forward(x, cache=None):
        x:     (B, T, d_model), the T newest tokens (T >= 1)
        cache: None (nothing decoded yet) or a tuple (k, v) returned by the previous call,
               each (B, num_heads, P, head_dim): projected keys / values of the P past tokens.
        Returns (out, new_cache): out (B, T, d_model) and (k, v) of shape
        (B, num_heads, P + T, head_dim). New token i (position P + i) attends to positions 0 .. P + i.
        Do not modify the cache passed in, and keep no per-sequence state on self.
    """

    def __init__(self, d_model, num_heads):
        super().__init__()
        raise NotImplementedError

    def forward(self, x, cache=None):
        raise NotImplementedError
