import math

import torch
import torch.nn as nn


class GroupedQueryAttention(nn.Module):
    def __init__(self, d_model, num_heads, num_kv_heads, bias=True):
        super().__init__()
        assert d_model % num_heads == 0 and num_heads % num_kv_heads == 0
        self.h, self.h_kv, self.hd = num_heads, num_kv_heads, d_model // num_heads
        self.W_q = nn.Linear(d_model, d_model, bias=bias)
        self.W_k = nn.Linear(d_model, num_kv_heads * self.hd, bias=bias)
        self.W_v = nn.Linear(d_model, num_kv_heads * self.hd, bias=bias)
        self.W_o = nn.Linear(d_model, d_model, bias=bias)

    def forward(self, x, mask=None):
        B, L, _ = x.shape
        q = self.W_q(x).view(B, L, self.h, self.hd).transpose(1, 2)        # (B, h, L, hd)
        k = self.W_k(x).view(B, L, self.h_kv, self.hd).transpose(1, 2)     # (B, h_kv, L, hd)
        v = self.W_v(x).view(B, L, self.h_kv, self.hd).transpose(1, 2)     # (B, h_kv, L, hd)
        group = self.h // self.h_kv
        k = k.repeat_interleave(group, dim=1)                               # (B, h, L, hd): head i uses kv head i // group
        v = v.repeat_interleave(group, dim=1)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.hd)              # (B, h, L, L)
        if mask is not None:
            scores = scores.masked_fill(mask == 0, float("-inf"))
        weights = torch.softmax(scores, dim=-1).nan_to_num(0.0)             # (B, h, L, L); a fully masked row: NaN -> 0
        out = (weights @ v).transpose(1, 2).reshape(B, L, self.h * self.hd) # (B, L, d_model)
        return self.W_o(out), weights
