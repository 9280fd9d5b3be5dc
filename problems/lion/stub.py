import torch


class Lion:
    """Lion optimizer (sign of an interpolation of momentum and gradient, decoupled weight decay).

    params: an iterable of tensors (e.g. model.parameters(), a one-shot generator).
    step(): update every parameter that has a .grad, in place.
    zero_grad(): clear the gradients (set them to None or to zero).
    """

    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0):
        raise NotImplementedError

    def zero_grad(self):
        raise NotImplementedError

    @torch.no_grad()
    def step(self):
        raise NotImplementedError
