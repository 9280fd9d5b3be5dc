import torch


class Lion:
    """Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"): a sign update
    of an interpolation of momentum and gradient, with decoupled weight decay."""

    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0):
        self.params = list(params)                            # params may be a one-shot generator
        self.lr, self.weight_decay = lr, weight_decay
        self.beta1, self.beta2 = betas
        self.m = [torch.zeros_like(p) for p in self.params]   # momentum, same shape as p

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self):
        for p, m in zip(self.params, self.m):
            if p.grad is None:
                continue
            g = p.grad
            c = self.beta1 * m + (1 - self.beta1) * g         # interpolation for the update (beta1)
            p.mul_(1 - self.lr * self.weight_decay)           # decoupled decay, from p before the update
            p.sub_(self.lr * torch.sign(c))                   # every coordinate moves by exactly lr (0 where c == 0)
            m.mul_(self.beta2).add_(g, alpha=1 - self.beta2)  # momentum tracks g with beta2
