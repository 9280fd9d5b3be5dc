import torch
import torch.nn as nn
import torch.nn.functional as F


class SwiGLU(nn.Module):
    def __init__(self, d_model, d_ff):
        super().__init__()
        self.w1 = nn.Linear(d_model, d_ff, bias=False)   # gate: weight (d_ff, d_model)
        self.w3 = nn.Linear(d_model, d_ff, bias=False)   # up:   weight (d_ff, d_model)
        self.w2 = nn.Linear(d_ff, d_model, bias=False)   # down: weight (d_model, d_ff)

    def forward(self, x):                                # x: (..., d_model)
        h = F.silu(self.w1(x)) * self.w3(x)              # (..., d_ff), silu(a) = a * sigmoid(a)
        return self.w2(h)                                # (..., d_model)
