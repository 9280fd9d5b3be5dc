import math

import torch


def rope_inv_freq(dim, base=10000.0, method="default", factor=1.0, max_position_embeddings=2048,
                  seq_len=None, beta_fast=32.0, beta_slow=1.0, truncate=True, dtype=torch.float32):
    """RoPE inverse frequencies with context-extension scaling, as transformers computes them.

    method: "default" (plain RoPE), "linear" (position interpolation), "dynamic" (dynamic NTK)
            or "yarn".
    max_position_embeddings: the trained context length L; seq_len: None (= L) or an int,
    used by "dynamic" only.
    Returns (inv_freq, attention_scaling): inv_freq (dim // 2,) of dtype `dtype`,
    attention_scaling a Python float (YaRN's 0.1 * ln(factor) + 1, else 1.0).
    """
    raise NotImplementedError
