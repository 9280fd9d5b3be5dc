import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class TransformerBlock(nn.Module):
    """Pre-LN GPT block, causal:  x = x + attn(ln1(x));  x = x + ffn(ln2(x)).

    Parameters (loaded from a state_dict; names must match exactly):
      ln1.weight, ln1.bias, ln2.weight, ln2.bias                      (d_model,)
      attn.W_q / attn.W_k / attn.W_v / attn.W_o .weight (d_model, d_model), .bias (d_model,)
      ffn.fc1.weight (d_ff, d_model), ffn.fc1.bias (d_ff,)
      ffn.fc2.weight (d_model, d_ff), ffn.fc2.bias (d_model,)
    forward: x (B, L, d_model) -> (B, L, d_model).
    """

    def __init__(self, d_model, num_heads, d_ff):
        super().__init__()
        raise NotImplementedError

    def forward(self, x):
        raise NotImplementedError
