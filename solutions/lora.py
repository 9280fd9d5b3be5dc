import math

import torch
import torch.nn as nn


class LoRALinear(nn.Module):
    def __init__(self, base: nn.Linear, rank: int, alpha: float):
        super().__init__()
        self.base = base
        for p in self.base.parameters():
            p.requires_grad_(False)                                   # W (out, in) and b stay frozen
        out_f, in_f = base.weight.shape
        w = base.weight
        self.lora_A = nn.Parameter(torch.empty(rank, in_f, dtype=w.dtype, device=w.device))   # (r, in)
        self.lora_B = nn.Parameter(torch.zeros(out_f, rank, dtype=w.dtype, device=w.device))  # (out, r)
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))         # U(-1/sqrt(in), 1/sqrt(in))
        self.scaling = alpha / rank
        self.merged = False

    def forward(self, x):                                             # x: (..., in)
        y = self.base(x)                                              # (..., out)
        if not self.merged:
            y = y + (x @ self.lora_A.T) @ self.lora_B.T * self.scaling    # (..., r) -> (..., out)
        return y

    @torch.no_grad()
    def merge(self):
        if not self.merged:                                           # merging twice must not add twice
            self.base.weight += self.scaling * (self.lora_B @ self.lora_A)    # (out, r) @ (r, in)
            self.merged = True
