import torch


def layer_norm(x, weight, bias, eps=1e-5):
    mean = x.mean(dim=-1, keepdim=True)                        # (..., 1)
    var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)         # (..., 1), biased
    return (x - mean) * torch.rsqrt(var + eps) * weight + bias  # (..., d)
