import torch


class SGD:
    """SGD with momentum (dampening 0), optional Nesterov and L2 weight decay, as torch.optim.SGD."""

    def __init__(self, params, lr=1e-3, momentum=0.0, weight_decay=0.0, nesterov=False):
        self.params = list(params)                        # params may be a one-shot generator
        self.lr, self.momentum, self.weight_decay, self.nesterov = lr, momentum, weight_decay, nesterov
        self.buf = [None] * len(self.params)              # momentum buffers, created at the first step

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self):
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            g = p.grad + self.weight_decay * p            # L2 weight decay, before the momentum
            if self.momentum != 0:
                if self.buf[i] is None:
                    self.buf[i] = g.clone()               # first step: buf = g
                else:
                    self.buf[i].mul_(self.momentum).add_(g)   # buf = mu * buf + g
                g = g + self.momentum * self.buf[i] if self.nesterov else self.buf[i]
            p.sub_(self.lr * g)
