"""Cases for sgd-momentum: the same model-and-batches harness as adamw
(see drillcli/graders/adamw.py for the case layout and the run hook)."""

from drillcli.fixtures import Case
# RETURNS, REFERENCE_DTYPE and the run hook are re-exported: the worker and the build read them from this module
from drillcli.graders.adamw import REFERENCE_DTYPE, RETURNS, run, standard_cases  # noqa: F401


def _ema_momentum(params, lr=1e-3, momentum=0.0, weight_decay=0.0, nesterov=False):
    """SGD whose buffer is an exponential average of the gradients, buf = mu * buf + (1 - mu) * g
    from zeros (dampening = mu)."""
    import torch

    class Variant:
        def __init__(self):
            self.params = list(params)
            self.buf = [torch.zeros_like(p) for p in self.params]

        def zero_grad(self):
            for p in self.params:
                p.grad = None

        @torch.no_grad()
        def step(self):
            for p, buf in zip(self.params, self.buf):
                if p.grad is None:
                    continue
                g = p.grad + weight_decay * p
                buf.mul_(momentum).add_(g, alpha=1 - momentum)
                p.sub_(lr * (g + momentum * buf if nesterov else buf))

    return Variant()


NEAR_MISSES = {
    "ema-momentum": ("your output matches momentum as an exponential average, buf = mu * buf + (1 - mu) * g "
                     "(dampening = mu); this problem accumulates raw gradients, buf = mu * buf + g, as "
                     "torch.optim.SGD with dampening 0 (see the prompt)", _ema_momentum),
}


def cases() -> list[Case]:
    base = {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.0, "nesterov": False}
    overrides = {  # SGD's step is proportional to the gradient: keep the scaled-loss cases finite
        "huge-gradients": {"lr": 1e-8},
        "tiny-gradients": {"lr": 1e8},
        "tiny-gradients-float32": {"lr": 1e6},
        "large-params": {"lr": 0.01},
    }
    variants = [
        ("plain-sgd", dict(momentum=0.0, lr=0.1), dict(seed=20, steps=4), "momentum 0: p -= lr * g"),
        ("plain-sgd-weight-decay", dict(momentum=0.0, lr=0.1, weight_decay=0.1), dict(seed=21, steps=4),
         "momentum 0, weight_decay 0.1: p -= lr * (g + wd * p)"),
        ("momentum-weight-decay", dict(weight_decay=0.05), dict(seed=22, steps=6),
         "weight decay is added to the gradient BEFORE the momentum buffer"),
        ("momentum-weight-decay-float64", dict(weight_decay=0.2, lr=0.1), dict(seed=23, steps=6, dtype="float64"), ""),
        ("momentum-0.5", dict(momentum=0.5, lr=0.1), dict(seed=24, steps=6), ""),
        ("momentum-0.99-long", dict(momentum=0.99, lr=0.005), dict(seed=25, steps=40, hidden=4, n_in=2, n_out=1),
         "heavy momentum over 40 steps: the buffer is mu * buf + g, not an average"),
        ("nesterov", dict(nesterov=True), dict(seed=26, steps=6), "nesterov: p -= lr * (g + mu * buf)"),
        ("nesterov-float64", dict(nesterov=True, lr=0.1), dict(seed=27, steps=8, dtype="float64"), ""),
        ("nesterov-weight-decay", dict(nesterov=True, weight_decay=0.1), dict(seed=28, steps=6), ""),
        ("nesterov-frozen-param", dict(nesterov=True, weight_decay=0.1), dict(seed=29, frozen=1, steps=4),
         "the last parameter has no gradient: it stays unchanged, no decay"),
        ("nesterov-one-step", dict(nesterov=True, lr=0.1), dict(seed=30, arch="linear", steps=1, n_in=2, n_out=1, batch=2),
         "first step: buf = g, so the nesterov step is lr * (1 + mu) * g"),
    ]
    return standard_cases(base, variants, overrides)
