import math

import torch
import torch.nn as nn


class LoRALinear(nn.Module):
    """A frozen nn.Linear plus a trainable low-rank update:

        y = base(x) + (alpha / rank) * x @ lora_A.T @ lora_B.T

    base:   the nn.Linear to adapt (weight (out, in), bias (out,) or None); freeze it.
    lora_A: nn.Parameter (rank, in),  init kaiming_uniform_(a=math.sqrt(5)), i.e. U(-1/sqrt(in), 1/sqrt(in)).
    lora_B: nn.Parameter (out, rank), init zeros.
    merge(): fold (alpha / rank) * lora_B @ lora_A into base.weight in place, once.
    """

    def __init__(self, base: nn.Linear, rank: int, alpha: float):
        super().__init__()
        raise NotImplementedError

    def forward(self, x):
        raise NotImplementedError

    def merge(self):
        raise NotImplementedError
