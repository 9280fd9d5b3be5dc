import torch


class AdamW:
    """AdamW: Adam with decoupled weight decay, equal to torch.optim.AdamW.

    params: an iterable of tensors (e.g. model.parameters(), a one-shot generator).
    step(): update every parameter that has a .grad, in place.
    zero_grad(): clear the gradients (set them to None or to zero).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        raise NotImplementedError

    def zero_grad(self):
        raise NotImplementedError

    @torch.no_grad()
    def step(self):
        raise NotImplementedError
