import torch


def layernorm_backward(x, gamma, beta, dy, eps=1e-5):
    # forward again: one mean / variance per row x[..., :], over the last axis
    d = x.shape[-1]
    mean = x.mean(dim=-1, keepdim=True)                          # (..., 1)
    var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)           # (..., 1) biased
    inv_std = torch.rsqrt(var + eps)                             # (..., 1)
    x_hat = (x - mean) * inv_std                                 # (..., D)
    # gamma and beta are shared by every row: sum over all leading axes (none for a 1-D x)
    dbeta = dy.reshape(-1, d).sum(dim=0)                         # (D,)
    dgamma = (dy * x_hat).reshape(-1, d).sum(dim=0)              # (D,)
    g = dy * gamma                                               # dL/dx_hat, (..., D)
    # dx = inv_std / D * (D g - sum(g) - x_hat sum(g x_hat)), the sums along each row
    dx = inv_std / d * (d * g - g.sum(dim=-1, keepdim=True)
                        - x_hat * (g * x_hat).sum(dim=-1, keepdim=True))   # (..., D)
    return dx, dgamma, dbeta
