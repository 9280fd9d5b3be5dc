"""Cases for adam (Adam with L2 weight decay): the same model-and-batches harness as adamw
(see drillcli/graders/adamw.py for the case layout and the run hook)."""

from functools import partial

from drillcli.fixtures import Case
# RETURNS, REFERENCE_DTYPE and the run hook are re-exported: the worker and the build read them from this module
from drillcli.graders.adamw import (EPS_HAT, NO_BIAS_CORRECTION, REFERENCE_DTYPE, RETURNS, adam_variant,  # noqa: F401
                                    run, standard_cases)

NEAR_MISSES = {
    "epsilon-hat": (EPS_HAT, partial(adam_variant, decay="l2", eps_hat=True)),
    "no-bias-correction": (NO_BIAS_CORRECTION, partial(adam_variant, decay="l2", corrected=False)),
    "decoupled-decay": ("your output matches AdamW's decoupled decay, p *= 1 - lr * weight_decay; this problem is "
                        "Adam with an L2 penalty, weight_decay * p added to the gradient before m and v "
                        "(see the prompt)", partial(adam_variant, decay="decoupled")),
}


def cases() -> list[Case]:
    base = {"lr": 1e-3, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.0}   # the constructor's defaults
    variants = [
        ("l2-weight-decay", dict(lr=0.05, weight_decay=0.1), dict(seed=20, steps=6),
         "weight_decay 0.1 is added to the gradient (g + wd * p) before m and v"),
        ("strong-l2-float64", dict(lr=0.1, weight_decay=0.5), dict(seed=21, steps=5, dtype="float64"), ""),
        ("l2-large-params", dict(lr=0.05, weight_decay=0.05), dict(seed=22, steps=5, arch="linear", param_scale=30.0),
         "parameters ~30: the L2 term dominates the gradient"),
        ("l2-frozen-param", dict(lr=0.05, weight_decay=0.1), dict(seed=23, frozen=1, steps=4),
         "the last parameter has no gradient: no L2 term either, it stays unchanged"),
        ("beta1-zero", dict(lr=0.05, betas=[0.0, 0.999]), dict(seed=24, steps=5), "no momentum: m = g"),
        ("beta1-zero-float64", dict(lr=0.05, betas=[0.0, 0.999], weight_decay=0.01), dict(seed=31, steps=5, dtype="float64"),
         "beta1 0.0 is a value, not 'use the default 0.9': m = g, and its bias correction is 1"),
        ("beta2-small", dict(lr=0.05, betas=[0.5, 0.6]), dict(seed=25, steps=8),
         "betas (0.5, 0.6): bias corrections differ from each other"),
        ("betas-swapped-detector", dict(lr=0.05, betas=[0.8, 0.99], weight_decay=0.01), dict(seed=26, steps=6), ""),
        ("large-eps", dict(lr=0.05, eps=0.1), dict(seed=27, steps=5),
         "eps 0.1: where eps is added (after sqrt, after bias correction) matters"),
        ("tiny-gradients-with-l2", dict(lr=0.01, weight_decay=1e-6), dict(seed=28, scale=1e-7, steps=5, dtype="float64"),
         "gradients ~1e-8 and an L2 term of the same size"),
        ("eps-zero", dict(lr=0.01, eps=0.0), dict(seed=29, scale=1e-7, steps=5),
         "eps 0.0 is a value, not 'use the default': gradients ~1e-8, where eps 1e-8 would halve the step"),
        ("eps-zero-float64", dict(lr=0.01, eps=0.0), dict(seed=30, scale=1e-9, steps=5, dtype="float64"), ""),
    ]
    return standard_cases(base, variants)
