import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class CausalSelfAttention(nn.Module):
    def __init__(self, d_model, num_heads):
        super().__init__()
        assert d_model % num_heads == 0
        self.h = num_heads
        self.W_q = nn.Linear(d_model, d_model)
        self.W_k = nn.Linear(d_model, d_model)
        self.W_v = nn.Linear(d_model, d_model)
        self.W_o = nn.Linear(d_model, d_model)

    def forward(self, x):                                              # x: (B, L, d)
        B, L, d = x.shape
        dh = d // self.h
        # (B, L, d) -> (B, h, L, dh)
        q, k, v = (W(x).view(B, L, self.h, dh).transpose(1, 2) for W in (self.W_q, self.W_k, self.W_v))
        scores = q @ k.transpose(-2, -1) / math.sqrt(dh)              # (B, h, L, L)
        causal = torch.ones(L, L, dtype=torch.bool, device=x.device).tril()
        scores = scores.masked_fill(~causal, float("-inf"))          # key j > query i is masked
        y = torch.softmax(scores, dim=-1) @ v                          # (B, h, L, dh)
        y = y.transpose(1, 2).reshape(B, L, d)                         # heads back side by side
        return self.W_o(y)


class FeedForward(nn.Module):
    def __init__(self, d_model, d_ff):
        super().__init__()
        self.fc1 = nn.Linear(d_model, d_ff)
        self.fc2 = nn.Linear(d_ff, d_model)

    def forward(self, x):                                              # (B, L, d) -> (B, L, d)
        return self.fc2(F.gelu(self.fc1(x)))                          # exact (erf) GELU


class TransformerBlock(nn.Module):
    def __init__(self, d_model, num_heads, d_ff):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)                               # eps = 1e-5
        self.attn = CausalSelfAttention(d_model, num_heads)
        self.ln2 = nn.LayerNorm(d_model)
        self.ffn = FeedForward(d_model, d_ff)

    def forward(self, x):                                              # x: (B, L, d_model)
        x = x + self.attn(self.ln1(x))                                 # Pre-LN: normalise the branch input
        x = x + self.ffn(self.ln2(x))                                  # the residual stream stays un-normalised
        return x
