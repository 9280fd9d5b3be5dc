import math

import torch
import torch.nn as nn


def gelu(x, approximate="none"):
    """GELU, elementwise.

    x: tensor of any shape.  approximate: 'none' (exact, x * Phi(x)) or 'tanh'.
    Returns a tensor with the shape and dtype of x.
    """
    raise NotImplementedError


class FeedForward(nn.Module):
    """Position-wise feed-forward network: fc2(gelu(fc1(x))).

    Parameters (loaded from a state_dict): fc1 = nn.Linear(d_model, d_ff),
    fc2 = nn.Linear(d_ff, d_model), both with bias.
    forward: x (..., d_model) -> (..., d_model).
    """

    def __init__(self, d_model, d_ff, approximate="none"):
        super().__init__()
        raise NotImplementedError

    def forward(self, x):
        raise NotImplementedError
