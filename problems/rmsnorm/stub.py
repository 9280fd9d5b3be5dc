import torch


def rms_norm(x, weight, eps=1e-6):
    """RMS normalization over the last dimension (LLaMA / T5).

    x: (..., d)   weight: (d,)
    Returns x / sqrt(mean(x**2, over the last dim) + eps) * weight, shape and dtype of x.
    """
    raise NotImplementedError
