import torch


class DynamicLossScaler:
    """Dynamic loss scaling for mixed-precision training (GradScaler's rule).

    scale: the current loss scale, a float attribute.
    scale_loss(loss) -> loss * scale
    step(grads) -> bool: grads are the SCALED gradients (a list of float32 tensors) of the last backward.
        inf/NaN in any of them: skip (return False), scale *= backoff_factor, reset the good-step count.
        otherwise: unscale every grad in place (multiply by 1 / scale), count a good step; after
        growth_interval consecutive good steps, scale *= growth_factor and reset the count; return True.
    """

    def __init__(self, init_scale=2.0**16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000):
        raise NotImplementedError

    def scale_loss(self, loss):
        raise NotImplementedError

    def step(self, grads):
        raise NotImplementedError
