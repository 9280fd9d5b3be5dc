import math

import torch
import torch.nn as nn


class CachedSelfAttention(nn.Module):
    def __init__(self, d_model, num_heads):
        super().__init__()
        self.h, self.hd = num_heads, d_model // num_heads
        self.W_q = nn.Linear(d_model, d_model)
        self.W_k = nn.Linear(d_model, d_model)
        self.W_v = nn.Linear(d_model, d_model)
        self.W_o = nn.Linear(d_model, d_model)

    def forward(self, x, cache=None):
        B, T, D = x.shape                                              # T new tokens
        split = lambda t: t.view(B, T, self.h, self.hd).transpose(1, 2)  # (B, h, T, hd)
        q, k, v = split(self.W_q(x)), split(self.W_k(x)), split(self.W_v(x))
        if cache is not None:
            k = torch.cat([cache[0], k], dim=2)                        # (B, h, P + T, hd)
            v = torch.cat([cache[1], v], dim=2)
        P = k.shape[2] - T                                             # number of past tokens
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.hd)          # (B, h, T, P + T)
        # new token i sits at position P + i: it sees keys 0 .. P + i
        visible = torch.ones(T, P + T, dtype=torch.bool, device=x.device).tril(diagonal=P)
        scores = scores.masked_fill(~visible, float("-inf"))
        out = torch.softmax(scores, dim=-1) @ v                        # (B, h, T, hd)
        out = out.transpose(1, 2).reshape(B, T, D)
        return self.W_o(out), (k, v)
