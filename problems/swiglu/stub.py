import torch
import torch.nn as nn
import torch.nn.functional as F


class SwiGLU(nn.Module):
    """LLaMA feed-forward: w2(silu(w1(x)) * w3(x)).

    Parameters (loaded from a state_dict), all nn.Linear without bias:
      w1: d_model -> d_ff (gate), w3: d_model -> d_ff (up), w2: d_ff -> d_model (down).
    forward: x (..., d_model) -> (..., d_model).
    """

    def __init__(self, d_model, d_ff):
        super().__init__()
        raise NotImplementedError

    def forward(self, x):
        raise NotImplementedError
