import torch


def $entry(x, scale):
    """TODO: one line on what it computes.

    x: (...,) any shape   scale: float
    Returns a tensor shaped like x, in x's dtype.
    """
    raise NotImplementedError
