"""Cases for lion: the same model-and-batches harness as adamw
(see drillcli/graders/adamw.py for the case layout and the run hook)."""

from functools import partial

from drillcli.fixtures import Case
# RETURNS, REFERENCE_DTYPE and the run hook are re-exported: the worker and the build read them from this module
from drillcli.graders.adamw import REFERENCE_DTYPE, RETURNS, run, standard_cases  # noqa: F401


def _variant(params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0, *, swapped=False, reversed_weights=False):
    """Lion with one convention changed: the two betas' roles swapped, or the update's
    interpolation weighted the other way round, c = beta1 * g + (1 - beta1) * m."""
    import torch

    b1, b2 = betas[::-1] if swapped else betas

    class Variant:
        def __init__(self):
            self.params = list(params)
            self.m = [torch.zeros_like(p) for p in self.params]

        def zero_grad(self):
            for p in self.params:
                p.grad = None

        @torch.no_grad()
        def step(self):
            for p, m in zip(self.params, self.m):
                if p.grad is None:
                    continue
                g = p.grad
                c = b1 * g + (1 - b1) * m if reversed_weights else b1 * m + (1 - b1) * g
                p.mul_(1 - lr * weight_decay)
                p.sub_(lr * torch.sign(c))
                m.mul_(b2).add_(g, alpha=1 - b2)

    return Variant()


NEAR_MISSES = {
    "interpolation-reversed": ("your output matches the update's interpolation weighted the other way round, "
                               "c = beta1 * g + (1 - beta1) * m; this problem uses c = beta1 * m + (1 - beta1) * g, "
                               "beta1 on the momentum (see the prompt)", partial(_variant, reversed_weights=True)),
    "betas-swapped": ("your output matches Lion with the betas' roles swapped (beta2 for the update's "
                      "interpolation, beta1 for the momentum); this problem interpolates with beta1 and updates "
                      "the momentum with beta2 (see the prompt)", partial(_variant, swapped=True)),
}


def cases() -> list[Case]:
    base = {"lr": 1e-4, "betas": [0.9, 0.99], "weight_decay": 0.0}   # the constructor's defaults
    variants = [
        ("weight-decay", dict(lr=0.01, weight_decay=1.0), dict(seed=20, steps=6),
         "decoupled decay: p *= 1 - lr * wd (0.99), then p -= lr * sign(c)"),
        ("strong-weight-decay-float64", dict(lr=0.05, weight_decay=2.0), dict(seed=21, steps=5, dtype="float64"), ""),
        ("weight-decay-large-params", dict(lr=0.01, weight_decay=0.5), dict(seed=22, steps=5, arch="linear", param_scale=30.0),
         "parameters ~30: the decay term is as large as the signed step"),
        ("weight-decay-frozen-param", dict(lr=0.01, weight_decay=1.0), dict(seed=23, frozen=1, steps=4),
         "the last parameter has no gradient: no decay, it stays unchanged"),
        ("weight-decay-frozen-params-float64", dict(lr=0.01, weight_decay=0.5),
         dict(seed=29, arch="linear", frozen=2, steps=4, dtype="float64"), "two parameters without gradients: no decay"),
        ("beta1-zero", dict(lr=0.01, betas=[0.0, 0.99]), dict(seed=24, steps=5),
         "beta1 0: the update is sign(g), m still tracks g with beta2"),
        ("beta2-zero", dict(lr=0.01, betas=[0.9, 0.0]), dict(seed=25, steps=6),
         "beta2 0: m is the previous gradient, c = 0.9 g_prev + 0.1 g"),
        ("beta1-zero-float64", dict(lr=0.01, betas=[0.0, 0.99], weight_decay=0.1), dict(seed=33, steps=5, dtype="float64"),
         "beta1 0.0 is a value, not 'use the default 0.9': the update is sign(g)"),
        ("beta2-zero-float64", dict(lr=0.01, betas=[0.9, 0.0]), dict(seed=34, steps=6, dtype="float64"),
         "beta2 0.0 is a value, not 'use the default 0.99': m is the previous gradient"),
        ("betas-far-apart", dict(lr=0.01, betas=[0.5, 0.99]), dict(seed=26, steps=8),
         "beta1 0.5 for the update, beta2 0.99 for the momentum: using one for the other changes signs"),
        ("betas-paper-lm", dict(lr=0.01, betas=[0.95, 0.98], weight_decay=0.1), dict(seed=27, steps=10),
         "the (0.95, 0.98) setting the paper suggests for language models"),
        ("long-run-with-decay", dict(lr=0.003, weight_decay=0.3), dict(seed=28, steps=40, hidden=4, n_in=2, n_out=1), ""),
    ]
    return standard_cases(base, variants)
