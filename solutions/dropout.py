import torch


def dropout(x, p, training=True, generator=None):
    if not training:
        return x                                                       # eval: identity
    if p == 1.0:
        return torch.zeros_like(x)                                     # everything dropped (avoid 0 / 0)
    keep = torch.rand(x.shape, generator=generator) >= p               # (*x.shape) bool, P(keep) = 1 - p
    return x * keep / (1.0 - p)                                        # inverted: E[out] = x
