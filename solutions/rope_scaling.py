import math

import torch


def rope_inv_freq(dim, base=10000.0, method="default", factor=1.0, max_position_embeddings=2048,
                  seq_len=None, beta_fast=32.0, beta_slow=1.0, truncate=True, dtype=torch.float32):
    attention_scaling = 1.0
    if method == "dynamic":
        # NTK-aware: raise the base once the sequence outgrows the trained context
        L = max_position_embeddings if seq_len is None else max(seq_len, max_position_embeddings)
        base = base * (factor * L / max_position_embeddings - (factor - 1)) ** (dim / (dim - 2))
    inv_freq = base ** (-torch.arange(0, dim, 2, dtype=torch.float64) / dim)       # (dim/2,)
    if method == "linear":
        inv_freq = inv_freq / factor                                                # positions / factor
    elif method == "yarn":
        def correction_dim(rotations):
            # the (fractional) pair index whose wavelength fits `rotations` times in the trained context
            return dim * math.log(max_position_embeddings / (rotations * 2 * math.pi)) / (2 * math.log(base))
        low, high = correction_dim(beta_fast), correction_dim(beta_slow)
        if truncate:
            low, high = math.floor(low), math.ceil(high)
        low, high = max(low, 0), min(high, dim - 1)
        ramp = ((torch.arange(dim // 2, dtype=torch.float64) - low) / (high - low)).clamp(0, 1)  # (dim/2,)
        inv_freq = inv_freq * (1 - ramp) + (inv_freq / factor) * ramp              # 0: keep, 1: interpolate
        if factor > 1:
            attention_scaling = 0.1 * math.log(factor) + 1.0
    elif method not in ("default", "dynamic"):
        raise ValueError(f"unknown method {method!r}")
    return inv_freq.to(dtype), attention_scaling
