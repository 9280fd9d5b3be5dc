import torch


def layernorm_backward(x, gamma, beta, dy, eps=1e-5):
    """Gradients of layer normalization over the last axis, computed by hand (no autograd).

    Forward: y = gamma * (x - mean) / sqrt(var + eps) + beta, with mean and the biased var
    taken over the last axis of each row x[..., :].
    x: (..., D), gamma: (D,), beta: (D,), dy = dL/dy: (..., D), eps: float >= 0.
    Returns (dx (..., D), dgamma (D,), dbeta (D,)), dtype of x; dgamma and dbeta are summed
    over every leading axis.
    """
    raise NotImplementedError
