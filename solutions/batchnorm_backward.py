import torch


def batchnorm_backward(x, gamma, beta, dout, eps=1e-5):
    # forward again (training mode): statistics over the batch axis
    n = x.shape[0]
    mean = x.mean(dim=0)                                   # (D,)
    var = ((x - mean) ** 2).mean(dim=0)                    # (D,) biased
    inv_std = torch.rsqrt(var + eps)                       # (D,)
    x_hat = (x - mean) * inv_std                           # (N, D)
    # backward; beta only shifts the output, so it does not enter any gradient
    dbeta = dout.sum(dim=0)                                # (D,)
    dgamma = (dout * x_hat).sum(dim=0)                     # (D,)
    dx_hat = dout * gamma                                  # (N, D)
    # dx = (1/N) inv_std (N dx_hat - sum(dx_hat) - x_hat sum(dx_hat * x_hat))
    dx = inv_std / n * (n * dx_hat - dx_hat.sum(dim=0) - x_hat * (dx_hat * x_hat).sum(dim=0))   # (N, D)
    return dx, dgamma, dbeta
