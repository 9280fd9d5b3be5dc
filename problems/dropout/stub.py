import torch


def dropout(x, p, training=True, generator=None):
    """Inverted dropout.

    x: (...) float32 / float64 tensor; p: float in [0, 1], the probability of DROPPING an entry;
    training: bool; generator: torch.Generator to draw the mask from.
    Mask rule: keep = torch.rand(x.shape, generator=generator) >= p  (one call, default float32).
    Returns a tensor of x's shape and dtype; differentiable with respect to x.
    """
    raise NotImplementedError
