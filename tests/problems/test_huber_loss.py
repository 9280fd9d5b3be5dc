"""huber-loss: the reference equals F.huber_loss on every case (values and gradients), correct
variants pass, realistic bugs fail."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from drillcli.harness import build_inputs
from tests.support import (assert_near_miss, assert_rejected, assert_within_half_tolerance, describe, mutate,
                           reference, stored_cases)

PROBLEM = "huber-loss"

CORRECT = {
    "where-on-abs": """
        import torch
        def huber_loss(input, target, delta=1.0, reduction="mean"):
            r = (input - target).abs()
            loss = torch.where(r <= delta, 0.5 * r * r, delta * r - 0.5 * delta ** 2)
            return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss
    """,
    "clamped-residual": """
        import torch
        def huber_loss(input, target, delta=1.0, reduction="mean"):
            a = (input - target).abs()
            q = a.clamp(max=delta)                      # quadratic part, at most delta
            loss = 0.5 * q ** 2 + delta * (a - q)       # plus a linear part beyond delta
            if reduction == "none":
                return loss
            return loss.sum() / loss.numel() if reduction == "mean" else loss.sum()
    """,
    "masks-float64": """
        import torch
        def huber_loss(input, target, delta=1.0, reduction="mean"):
            r = input.double() - target.double()
            small = (r.abs() < delta).double()
            quad = 0.5 * torch.minimum(r.abs(), torch.tensor(float(delta), dtype=torch.float64)) ** 2
            loss = small * quad + (1 - small) * delta * (r.abs() - 0.5 * delta)
            loss = {"mean": loss.mean(), "sum": loss.sum()}.get(reduction, loss) if reduction != "none" else loss
            return loss.to(input.dtype)
    """,
    "smooth-l1-times-delta": """
        import torch
        def huber_loss(input, target, delta=1.0, reduction="mean"):
            r = (input - target).abs()
            smooth = torch.where(r < delta, 0.5 * r ** 2 / delta, r - 0.5 * delta)   # smooth L1 with beta = delta
            loss = delta * smooth
            if reduction == "mean":
                return loss.mean()
            return loss.sum() if reduction == "sum" else loss
    """,
}

_BASE = """
    import torch
    def huber_loss(input, target, delta=1.0, reduction="mean"):
        r = (input - target).abs()
        loss = torch.where(r < delta, 0.5 * r ** 2, delta * (r - 0.5 * delta))
        if reduction == "mean":
            return loss.mean()
        if reduction == "sum":
            return loss.sum()
        return loss
"""


def _bug(old: str, new: str) -> str:
    return mutate(_BASE, (old, new))


BUGS = {
    "smooth-l1-instead-of-huber": _bug("0.5 * r ** 2, delta * (r - 0.5 * delta)", "0.5 * r ** 2 / delta, r - 0.5 * delta"),
    "missing-half-in-quadratic": _bug("0.5 * r ** 2,", "r ** 2,"),
    "linear-piece-without-offset": _bug("delta * (r - 0.5 * delta)", "delta * r"),
    "linear-piece-without-delta": _bug("delta * (r - 0.5 * delta)", "r - 0.5 * delta"),
    "no-abs-on-residual": _bug("r = (input - target).abs()", "r = input - target"),
    "pieces-swapped": _bug("torch.where(r < delta,", "torch.where(r > delta,"),
    "mean-over-last-axis": _bug("return loss.mean()", "return loss.mean(-1).sum() if loss.dim() > 1 else loss.mean()"),
    "squared-delta-threshold": _bug("torch.where(r < delta,", "torch.where(r ** 2 < delta,"),
    "arithmetic-mask-leaks-overflow": _bug(
        "loss = torch.where(r < delta, 0.5 * r ** 2, delta * (r - 0.5 * delta))",
        "m = (r < delta).to(r.dtype)\n        loss = m * 0.5 * r ** 2 + (1 - m) * delta * (r - 0.5 * delta)"),
}


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass_within_half_tolerance(grade_source, name):
    assert_within_half_tolerance(grade_source(PROBLEM, CORRECT[name]))


@pytest.mark.parametrize("name", BUGS)
def test_bugs_fail(grade_source, name):
    verdict = grade_source(PROBLEM, BUGS[name])
    assert verdict.status == "failed", describe(verdict)
    assert_rejected(verdict)


def test_reference_matches_torch_on_every_case():
    for case in stored_cases(PROBLEM):
        args, _, _ = build_inputs(case)
        x, y, delta, reduction = args
        ours = reference(PROBLEM)(x, y, delta, reduction)
        x2, y2 = (t.detach().clone().requires_grad_(t.requires_grad) for t in (x, y))
        theirs = F.huber_loss(x2, y2, reduction=reduction, delta=delta)
        torch.testing.assert_close(ours, theirs, msg=case.name)
        np.testing.assert_allclose(ours.detach().numpy(), case.outputs["loss"], rtol=1e-5, atol=1e-7, err_msg=case.name)
        if case.grad:
            up = torch.from_numpy(np.asarray(case.inputs["_upstream"]))
            ours.backward(up)
            theirs.backward(up)
            torch.testing.assert_close(x.grad, x2.grad, msg=case.name)
            torch.testing.assert_close(y.grad, y2.grad, msg=case.name)


NEAR_MISSES = {
    "smooth-l1": BUGS["smooth-l1-instead-of-huber"],
}


@pytest.mark.parametrize("variant", NEAR_MISSES)
def test_near_misses_are_named(grade_source, variant):
    assert_near_miss(grade_source(PROBLEM, NEAR_MISSES[variant]), PROBLEM, variant)
