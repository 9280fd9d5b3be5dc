import torch


class AdamW:
    """Adam with decoupled weight decay (Loshchilov & Hutter), as torch.optim.AdamW."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        self.params = list(params)                            # params may be a one-shot generator
        self.lr, self.eps, self.weight_decay = lr, eps, weight_decay
        self.beta1, self.beta2 = betas
        self.m = [torch.zeros_like(p) for p in self.params]   # first moment, same shape as p
        self.v = [torch.zeros_like(p) for p in self.params]   # second moment
        self.t = 0                                            # steps taken

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self):
        self.t += 1
        bc1, bc2 = 1 - self.beta1 ** self.t, 1 - self.beta2 ** self.t
        for p, m, v in zip(self.params, self.m, self.v):
            if p.grad is None:
                continue
            g = p.grad
            p.mul_(1 - self.lr * self.weight_decay)           # decoupled decay, from p before the update
            m.mul_(self.beta1).add_(g, alpha=1 - self.beta1)  # m = b1 m + (1 - b1) g
            v.mul_(self.beta2).addcmul_(g, g, value=1 - self.beta2)  # v = b2 v + (1 - b2) g^2
            m_hat, v_hat = m / bc1, v / bc2                   # bias correction
            p.sub_(self.lr * m_hat / (v_hat.sqrt() + self.eps))
