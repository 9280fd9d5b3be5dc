import torch


def quantize_int8(x, dim=None):
    """Symmetric absmax int8 quantization.

    x: float32 / float64 tensor, any shape with at least one element.
    dim: None for one scale for the whole tensor, or the channel axis (negative allowed):
         one scale per index along dim, the absmax taken over all the other axes.
    Returns (q, scale): q int8 of x's shape, values in [-127, 127];
    scale of x's dtype, 0-dim (dim=None) or x.dim() dims with size 1 except along dim.
    """
    raise NotImplementedError


def dequantize_int8(q, scale):
    """q * scale in scale's dtype, shape of q."""
    raise NotImplementedError
