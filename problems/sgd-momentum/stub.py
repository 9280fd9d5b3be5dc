import torch


class SGD:
    """SGD with momentum (dampening 0), optional Nesterov and L2 weight decay, equal to torch.optim.SGD.

    params: an iterable of tensors (e.g. model.parameters(), a one-shot generator).
    step(): update every parameter that has a .grad, in place.
    zero_grad(): clear the gradients (set them to None or to zero).
    """

    def __init__(self, params, lr=1e-3, momentum=0.0, weight_decay=0.0, nesterov=False):
        raise NotImplementedError

    def zero_grad(self):
        raise NotImplementedError

    @torch.no_grad()
    def step(self):
        raise NotImplementedError
