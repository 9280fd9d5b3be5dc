import math

import torch


def gelu(x, approximate="none"):
    """GELU, elementwise: "none" = exact x * Phi(x) with erf, "tanh" = GPT-2's tanh approximation.

    x: any shape (0-d and empty included)   approximate: "none" or "tanh"
    Returns a tensor shaped like x, in x's dtype, on x's autograd graph.
    """
    raise NotImplementedError
