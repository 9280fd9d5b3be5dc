import torch


def quantize_int8(x, dim=None):
    if dim is None:
        absmax = x.abs().amax()                                            # () one scale for the tensor
    else:
        others = [d for d in range(x.dim()) if d != dim % x.dim()]
        absmax = x.abs().amax(dim=others, keepdim=True)                    # size 1 everywhere but dim
    scale = torch.where(absmax > 0, absmax / 127, torch.ones_like(absmax))  # an all-zero channel gets scale 1
    q = torch.clamp(torch.round(x / scale), -127, 127).to(torch.int8)      # round half to even
    return q, scale


def dequantize_int8(q, scale):
    return q.to(scale.dtype) * scale                                       # broadcasts the (keepdim) scale
