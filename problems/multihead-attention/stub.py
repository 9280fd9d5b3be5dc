import math

import torch
import torch.nn as nn


class MultiHeadAttention(nn.Module):
    def __init__(self, d_model, num_heads):
        super().__init__()
        # W_q, W_k, W_v, W_o: nn.Linear(d_model, d_model), with bias
        raise NotImplementedError

    def forward(self, q, k, v, mask=None):
        """q: (B, Lq, d_model)   k, v: (B, Lk, d_model)
        mask: None, or broadcastable to (B, h, Lq, Lk); True/nonzero = may attend.
        Returns (out (B, Lq, d_model), weights (B, h, Lq, Lk)).
        """
        raise NotImplementedError
