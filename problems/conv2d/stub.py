import torch


def conv2d(x, weight, bias=None, stride=1, padding=0):
    """2-D convolution (cross-correlation, like torch.nn.functional.conv2d).

    x:      (N, C_in, H, W)
    weight: (C_out, C_in, kH, kW)
    bias:   (C_out,) or None
    stride, padding: an int or a pair (h, w); zero padding on both sides
    Returns (N, C_out, H_out, W_out), H_out = (H + 2*pH - kH) // sH + 1 (same for W).
    Must be differentiable (autograd) w.r.t. x, weight and bias.
    """
    raise NotImplementedError
