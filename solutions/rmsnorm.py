import torch


def rms_norm(x, weight, eps=1e-6):
    inv_rms = torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + eps)   # (..., 1): 1 / sqrt(mean(x²) + eps)
    return x * inv_rms * weight                                        # (..., d)
