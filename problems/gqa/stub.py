import math

import torch
import torch.nn as nn


class GroupedQueryAttention(nn.Module):
    """Grouped-query self-attention (MQA when num_kv_heads = 1, MHA when num_kv_heads = num_heads).

    __init__(d_model, num_heads, num_kv_heads, bias=True), head_dim = d_model // num_heads:
        W_q: nn.Linear(d_model, d_model, bias=bias)
        W_k: nn.Linear(d_model, num_kv_heads * head_dim, bias=bias)
        W_v: nn.Linear(d_model, num_kv_heads * head_dim, bias=bias)
        W_o: nn.Linear(d_model, d_model, bias=bias)
    forward(x, mask=None):
        x: (B, L, d_model); mask: None or broadcastable to (B, num_heads, L, L), True = may attend.
        Query head i uses key/value head i // (num_heads // num_kv_heads).
        Returns (out, weights): out (B, L, d_model), weights (B, num_heads, L, L).
    """

    def __init__(self, d_model, num_heads, num_kv_heads, bias=True):
        super().__init__()
        raise NotImplementedError

    def forward(self, x, mask=None):
        raise NotImplementedError
