import torch


def clip_grad_norm(parameters, max_norm, norm_type=2.0):
    """Clip the gradients of `parameters` in place so that their total norm is at most max_norm.

    parameters: an iterable of tensors (possibly a one-shot generator) or a single tensor;
                a parameter whose .grad is None is skipped.
    max_norm:   float > 0
    norm_type:  float p >= 1, or float('inf')
    Returns total_norm: a 0-dim tensor, the norm of all gradients before clipping.
    """
    raise NotImplementedError
