import torch


def layer_norm(x, weight, bias, eps=1e-5):
    """Layer normalization over the last dimension.

    x: (..., d)   weight: (d,)   bias: (d,)
    Returns a tensor shaped like x: (x - mean) / sqrt(var + eps) * weight + bias,
    with the biased variance (divide by d).
    """
    raise NotImplementedError
