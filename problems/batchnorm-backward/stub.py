import torch


def batchnorm_backward(x, gamma, beta, dout, eps=1e-5):
    """Gradients of training-mode batch normalization, computed by hand (no autograd).

    Forward: y = gamma * (x - mean) / sqrt(var + eps) + beta, with mean and the biased var
    taken over the batch axis 0.
    x: (N, D), gamma: (D,), beta: (D,), dout = dL/dy: (N, D).
    Returns (dx (N, D), dgamma (D,), dbeta (D,)), dtype of x.
    """
    raise NotImplementedError
