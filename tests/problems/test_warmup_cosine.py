"""warmup-cosine: the reference agrees with torch.optim.lr_scheduler, correct variants pass, bugs fail."""

from __future__ import annotations

import warnings

import pytest
import torch

from tests.support import (assert_near_miss, assert_rejected, assert_within_half_tolerance, describe,
                           reference, stored_cases)

PROBLEM = "warmup-cosine"

CORRECT = {
    "cos-squared-half-angle": """
        import math
        def warmup_cosine_lr(step, max_lr, min_lr, warmup_steps, total_steps):
            if step < warmup_steps:
                return step / warmup_steps * max_lr
            if step >= total_steps:
                return min_lr
            p = (step - warmup_steps) / (total_steps - warmup_steps)
            return min_lr + (max_lr - min_lr) * math.cos(math.pi * p / 2) ** 2
    """,
    "clamped-progress": """
        import math
        def warmup_cosine_lr(step, max_lr, min_lr, warmup_steps, total_steps):
            if step < warmup_steps:
                return max_lr * (step / warmup_steps)
            p = min(1.0, (step - warmup_steps) / (total_steps - warmup_steps)) if total_steps > warmup_steps else 1.0
            return min_lr + (max_lr - min_lr) * (1 + math.cos(math.pi * p)) / 2
    """,
    "torch-float64-interpolation": """
        import math, torch
        def warmup_cosine_lr(step, max_lr, min_lr, warmup_steps, total_steps):
            s = torch.tensor(float(step), dtype=torch.float64)
            if step < warmup_steps:
                return (max_lr * s / warmup_steps).item()
            if step >= total_steps:
                return float(min_lr)
            coeff = 0.5 * (1 + torch.cos(math.pi * (s - warmup_steps) / (total_steps - warmup_steps)))
            return (coeff * max_lr + (1 - coeff) * min_lr).item()
    """,
    "numpy-piecewise": """
        import numpy as np
        def warmup_cosine_lr(step, max_lr, min_lr, warmup_steps, total_steps):
            warm = max_lr * step / max(warmup_steps, 1)
            decay_len = max(total_steps - warmup_steps, 1)
            cos = min_lr + 0.5 * (max_lr - min_lr) * (1 + np.cos(np.pi * (step - warmup_steps) / decay_len))
            return float(warm if step < warmup_steps else (cos if step < total_steps else min_lr))
    """,
}

_DECAY = """
    p = (step - warmup_steps) / (total_steps - warmup_steps)
    return min_lr + 0.5 * (max_lr - min_lr) * (1 + math.cos(math.pi * p))
"""

BUGS = {
    "max-lr-when-no-decay-phase": """
import math
def warmup_cosine_lr(step, max_lr, min_lr, warmup_steps, total_steps):
    if step < warmup_steps:
        return max_lr * step / warmup_steps
    if total_steps == warmup_steps:
        return max_lr
    if step >= total_steps:
        return min_lr
""" + _DECAY,
    "min-lr-zero-treated-as-unset": """
import math
def warmup_cosine_lr(step, max_lr, min_lr, warmup_steps, total_steps):
    min_lr = min_lr or 0.1 * max_lr
    if step < warmup_steps:
        return max_lr * step / warmup_steps
    if step >= total_steps:
        return min_lr
""" + _DECAY,
    # warmup_steps = 0 means no warmup (step 0 gives max_lr), not "a warmup of 1 step"
    "zero-warmup-taken-as-one": """
import math
def warmup_cosine_lr(step, max_lr, min_lr, warmup_steps, total_steps):
    warmup_steps = warmup_steps or 1   # avoid 0 / 0
    if step < warmup_steps:
        return max_lr * step / warmup_steps
    if step >= total_steps:
        return min_lr
""" + _DECAY,
    "nanogpt-warmup-plus-one": """
import math
def warmup_cosine_lr(step, max_lr, min_lr, warmup_steps, total_steps):
    if step < warmup_steps:
        return max_lr * (step + 1) / (warmup_steps + 1)
    if step >= total_steps:
        return min_lr
""" + _DECAY,
    "warmup-off-by-one": """
import math
def warmup_cosine_lr(step, max_lr, min_lr, warmup_steps, total_steps):
    if step < warmup_steps:
        return max_lr * (step + 1) / warmup_steps
    if step >= total_steps:
        return min_lr
""" + _DECAY,
    "progress-over-total-steps": """
import math
def warmup_cosine_lr(step, max_lr, min_lr, warmup_steps, total_steps):
    if step < warmup_steps:
        return max_lr * step / warmup_steps
    if step >= total_steps:
        return min_lr
    p = (step - warmup_steps) / total_steps
    return min_lr + 0.5 * (max_lr - min_lr) * (1 + math.cos(math.pi * p))
""",
    "cosine-rises-after-total": """
import math
def warmup_cosine_lr(step, max_lr, min_lr, warmup_steps, total_steps):
    if step < warmup_steps:
        return max_lr * step / warmup_steps
    if total_steps == warmup_steps:
        return min_lr
""" + _DECAY,
    "decays-to-zero-ignoring-min-lr": """
import math
def warmup_cosine_lr(step, max_lr, min_lr, warmup_steps, total_steps):
    if step < warmup_steps:
        return max_lr * step / warmup_steps
    if step >= total_steps:
        return min_lr
    p = (step - warmup_steps) / (total_steps - warmup_steps)
    return 0.5 * max_lr * (1 + math.cos(math.pi * p))
""",
    "min-lr-added-on-top": """
import math
def warmup_cosine_lr(step, max_lr, min_lr, warmup_steps, total_steps):
    if step < warmup_steps:
        return max_lr * step / warmup_steps
    if step >= total_steps:
        return min_lr
    p = (step - warmup_steps) / (total_steps - warmup_steps)
    return min_lr + 0.5 * max_lr * (1 + math.cos(math.pi * p))
""",
    "stateful-counter": """
import math
_calls = [0]
def warmup_cosine_lr(step, max_lr, min_lr, warmup_steps, total_steps):
    step = _calls[0]
    _calls[0] += 1
    if step < warmup_steps:
        return max_lr * step / warmup_steps
    if step >= total_steps:
        return min_lr
""" + _DECAY,
    "warmup-starts-at-min-lr": """
import math
def warmup_cosine_lr(step, max_lr, min_lr, warmup_steps, total_steps):
    if step < warmup_steps:
        return min_lr + (max_lr - min_lr) * step / warmup_steps
    if step >= total_steps:
        return min_lr
""" + _DECAY,
}


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass_within_half_tolerance(grade_source, name):
    assert_within_half_tolerance(grade_source(PROBLEM, CORRECT[name]))


@pytest.mark.parametrize("name", BUGS)
def test_bugs_fail(grade_source, name):
    verdict = grade_source(PROBLEM, BUGS[name])
    assert verdict.status == "failed", describe(verdict)
    assert_rejected(verdict)


def _torch_lr(step, max_lr, min_lr, warmup, total):
    """The same schedule from torch.optim.lr_scheduler: LambdaLR warmup, CosineAnnealingLR's closed form."""
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=max_lr)
    if step < warmup:
        return torch.optim.lr_scheduler.LambdaLR(opt, lambda s: s / warmup).lr_lambdas[0](step) * max_lr
    if step > total:
        return min_lr
    cos = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(total - warmup, 1), eta_min=min_lr)
    cos.last_epoch = step - warmup if total > warmup else 1
    return cos._get_closed_form_lr()[0]


def _stepped_schedule(max_lr, min_lr, warmup, total, n):
    """lr of steps 0..n-1 by stepping SequentialLR(LambdaLR warmup, CosineAnnealingLR) like a training loop."""
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=max_lr)
    cos = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total - warmup, eta_min=min_lr)
    sched = cos if warmup == 0 else torch.optim.lr_scheduler.SequentialLR(
        opt, [torch.optim.lr_scheduler.LambdaLR(opt, lambda s: s / warmup), cos], milestones=[warmup])
    lrs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(n):
            lrs.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
    return lrs


def test_reference_matches_torch_schedulers_on_every_case():
    ref = reference(PROBLEM)
    for case in stored_cases(PROBLEM):
        v = case.inputs
        args = (v["max_lr"], v["min_lr"], v["warmup_steps"], v["total_steps"])
        ours = [ref(int(s), *args) for s in v["steps"]]
        assert ours == pytest.approx(case.outputs["lr"].tolist(), rel=1e-15, abs=0), case.name
        lib = [_torch_lr(int(s), *args) for s in v["steps"]]
        assert ours == pytest.approx(lib, rel=1e-12, abs=1e-18), case.name
        if v["total_steps"] > v["warmup_steps"] and v["total_steps"] <= 5000:
            stepped = _stepped_schedule(*args, v["total_steps"] + 1)
            full = [ref(s, *args) for s in range(v["total_steps"] + 1)]
            assert full == pytest.approx(stepped, rel=1e-9, abs=1e-15), case.name


NEAR_MISSES = {
    "warmup-from-step-plus-one": BUGS["warmup-off-by-one"],
    "nanogpt-warmup": BUGS["nanogpt-warmup-plus-one"],
}


@pytest.mark.parametrize("variant", NEAR_MISSES)
def test_near_misses_are_named(grade_source, variant):
    assert_near_miss(grade_source(PROBLEM, NEAR_MISSES[variant]), PROBLEM, variant)
