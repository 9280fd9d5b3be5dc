import math

import torch
import torch.nn as nn


class SelfAttention(nn.Module):
    def __init__(self, d_model, d_head, bias=True):
        super().__init__()
        self.d_head = d_head
        self.W_q = nn.Linear(d_model, d_head, bias=bias)
        self.W_k = nn.Linear(d_model, d_head, bias=bias)
        self.W_v = nn.Linear(d_model, d_head, bias=bias)
        self.W_o = nn.Linear(d_head, d_model, bias=bias)

    def forward(self, x, mask=None):
        q, k, v = self.W_q(x), self.W_k(x), self.W_v(x)                # (..., L, d_head)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.d_head)       # (..., L, L)
        if mask is not None:
            scores = scores.masked_fill(mask == 0, float("-inf"))
        weights = torch.softmax(scores, dim=-1)                         # (..., L, L)
        return self.W_o(weights @ v), weights                           # (..., L, d_model), (..., L, L)
