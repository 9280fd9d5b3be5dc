import torch


def apply_rope_interleaved(x, positions=None, base=10000.0):
    L, d = x.shape[-2], x.shape[-1]
    if positions is None:
        positions = torch.arange(L, device=x.device)
    # angles in float64: position * base^(-2i/d) stays accurate at large positions
    inv_freq = base ** (-torch.arange(0, d, 2, dtype=torch.float64, device=x.device) / d)  # (d/2,)
    angles = positions.to(torch.float64)[..., None] * inv_freq                              # (..., L, d/2)
    cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)                           # (..., L, d/2)
    x1, x2 = x[..., 0::2], x[..., 1::2]                       # (..., L, d/2): even and odd features
    out = torch.stack((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1)                   # (..., L, d/2, 2)
    return out.flatten(-2)                                    # (..., L, d): pairs back in place
