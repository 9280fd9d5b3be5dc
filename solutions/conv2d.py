import torch
import torch.nn.functional as F


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def conv2d(x, weight, bias=None, stride=1, padding=0):
    """x (N, C_in, H, W), weight (C_out, C_in, kH, kW), bias (C_out,) or None -> (N, C_out, H_out, W_out)."""
    (sh, sw), (ph, pw) = _pair(stride), _pair(padding)
    kh, kw = weight.shape[-2:]
    x = F.pad(x, (pw, pw, ph, ph))                            # zero padding: (left, right, top, bottom)
    patches = x.unfold(2, kh, sh).unfold(3, kw, sw)           # (N, C_in, H_out, W_out, kH, kW)
    out = torch.einsum("nchwij,ocij->nohw", patches, weight)  # cross-correlation: no kernel flip
    if bias is not None:
        out = out + bias[:, None, None]                       # (C_out, 1, 1) broadcast
    return out
