import math

import torch
import torch.nn as nn


def gelu(x, approximate="none"):
    if approximate == "tanh":
        # GPT-2's approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))
    if approximate == "none":
        return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))        # x * Phi(x)
    raise ValueError(f"approximate must be 'none' or 'tanh', got {approximate!r}")


class FeedForward(nn.Module):
    def __init__(self, d_model, d_ff, approximate="none"):
        super().__init__()
        self.fc1 = nn.Linear(d_model, d_ff)     # weight (d_ff, d_model)
        self.fc2 = nn.Linear(d_ff, d_model)     # weight (d_model, d_ff)
        self.approximate = approximate

    def forward(self, x):                                  # x: (..., d_model)
        h = gelu(self.fc1(x), self.approximate)            # (..., d_ff)
        return self.fc2(h)                                 # (..., d_model)
