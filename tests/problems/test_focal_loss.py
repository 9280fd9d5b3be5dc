"""focal-loss: the reference equals torchvision's sigmoid_focal_loss formula (re-implemented
here: torchvision is not a dependency) on every case, correct variants pass, realistic bugs fail."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from drillcli.harness import build_inputs
from tests.support import (assert_near_miss, assert_rejected, assert_within_half_tolerance, describe, mutate,
                           reference, stored_cases)

PROBLEM = "focal-loss"

CORRECT = {
    "bce-with-logits": """
        import torch
        import torch.nn.functional as F
        def focal_loss(logits, targets, alpha=0.25, gamma=2.0, reduction="mean"):
            p = logits.sigmoid()
            ce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
            p_t = torch.where(targets == 1, p, 1 - p)
            loss = ce * (1 - p_t).pow(gamma)
            if alpha is not None:
                loss = torch.where(targets == 1, alpha * loss, (1 - alpha) * loss)
            return {"mean": loss.mean, "sum": loss.sum}.get(reduction, lambda: loss)()
    """,
    "logsigmoid-two-terms": """
        import torch
        import torch.nn.functional as F
        def focal_loss(logits, targets, alpha=0.25, gamma=2.0, reduction="mean"):
            log_p, log_1mp = F.logsigmoid(logits), F.logsigmoid(-logits)     # log p, log(1 - p)
            a_pos, a_neg = (1.0, 1.0) if alpha is None else (alpha, 1 - alpha)
            pos = -a_pos * torch.exp(gamma * log_1mp) * log_p                 # (1 - p)^g * -log p
            neg = -a_neg * torch.exp(gamma * log_p) * log_1mp                 # p^g * -log(1 - p)
            loss = targets * pos + (1 - targets) * neg
            if reduction == "mean":
                return loss.sum() / loss.numel()
            return loss.sum() if reduction == "sum" else loss
    """,
    "signed-margin-float64": """
        import torch
        import torch.nn.functional as F
        def focal_loss(logits, targets, alpha=0.25, gamma=2.0, reduction="mean"):
            z = logits.double() * (2 * targets.double() - 1)      # p_t = sigmoid(z)
            loss = torch.sigmoid(-z) ** gamma * F.softplus(-z)    # (1 - p_t)^g * -log p_t
            if alpha is not None:
                loss = loss * (alpha * targets.double() + (1 - alpha) * (1 - targets.double()))
            if reduction == "mean":
                loss = loss.mean()
            elif reduction == "sum":
                loss = loss.sum()
            return loss.to(logits.dtype)
    """,
    "manual-softplus-flattened": """
        import torch
        def focal_loss(logits, targets, alpha=0.25, gamma=2.0, reduction="mean"):
            x, t = logits.reshape(-1), targets.reshape(-1)
            ce = x.clamp(min=0) - x * t + torch.log1p(torch.exp(-x.abs()))
            p = torch.sigmoid(x)
            mod = (p * (1 - t) + (1 - p) * t) ** gamma
            w = torch.ones_like(x) if alpha is None else alpha * t + (1 - alpha) * (1 - t)
            loss = (w * mod * ce).reshape(logits.shape)
            if reduction == "none":
                return loss
            return loss.sum() / max(loss.numel(), 1) if reduction == "mean" else loss.sum()
    """,
}

_BASE = """
    import torch
    import torch.nn.functional as F
    def focal_loss(logits, targets, alpha=0.25, gamma=2.0, reduction="mean"):
        p = torch.sigmoid(logits)
        ce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
        p_t = p * targets + (1 - p) * (1 - targets)
        loss = ce * (1 - p_t) ** gamma
        if alpha is not None:
            loss = (alpha * targets + (1 - alpha) * (1 - targets)) * loss
        if reduction == "mean":
            return loss.mean()
        if reduction == "sum":
            return loss.sum()
        return loss
"""


def _bug(old: str, new: str) -> str:
    return mutate(_BASE, (old, new))


BUGS = {
    "alpha-on-every-element": _bug("(alpha * targets + (1 - alpha) * (1 - targets)) * loss", "alpha * loss"),
    "alpha-swapped": _bug("(alpha * targets + (1 - alpha) * (1 - targets))", "((1 - alpha) * targets + alpha * (1 - targets))"),
    "p-t-instead-of-one-minus": _bug("(1 - p_t) ** gamma", "p_t ** gamma"),
    "naive-log-sigmoid": _bug('F.binary_cross_entropy_with_logits(logits, targets, reduction="none")', "-torch.log(p_t)").replace(
        "ce = -torch.log(p_t)\n        p_t = p * targets + (1 - p) * (1 - targets)",
        "p_t = p * targets + (1 - p) * (1 - targets)\n        ce = -torch.log(p_t)"),
    "modulating-factor-detached": _bug("loss = ce * (1 - p_t) ** gamma", "loss = ce * ((1 - p_t) ** gamma).detach()"),
    "mean-over-rows-only": _bug("return loss.mean()", "return loss.sum(-1).mean() if loss.dim() > 1 else loss.mean()"),
    "normalised-by-positives": _bug("return loss.mean()", "return loss.sum() / targets.sum().clamp(min=1)"),
    "gamma-as-multiplier": _bug("(1 - p_t) ** gamma", "gamma * (1 - p_t)"),
    "softmax-instead-of-sigmoid": _bug("p = torch.sigmoid(logits)", "p = torch.softmax(logits, dim=-1)"),
    "alpha-tested-for-truth": _bug("if alpha is not None:", "if alpha:"),
    "gamma-zero-taken-as-default": _bug("loss = ce * (1 - p_t) ** gamma", "loss = ce * (1 - p_t) ** (gamma or 2.0)"),
    "alpha-none-means-half": _bug("if alpha is not None:\n", "if True:\n            alpha = 0.5 if alpha is None else alpha\n"),
}


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass_within_half_tolerance(grade_source, name):
    assert_within_half_tolerance(grade_source(PROBLEM, CORRECT[name]))


@pytest.mark.parametrize("name", BUGS)
def test_bugs_fail(grade_source, name):
    verdict = grade_source(PROBLEM, BUGS[name])
    assert verdict.status == "failed", describe(verdict)
    assert_rejected(verdict)


def torchvision_sigmoid_focal_loss(inputs, targets, alpha=0.25, gamma=2, reduction="none"):
    """torchvision.ops.sigmoid_focal_loss (torchvision/ops/focal_loss.py), alpha < 0 disables weighting."""
    p = torch.sigmoid(inputs)
    ce_loss = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha >= 0:
        alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
        loss = alpha_t * loss
    if reduction == "mean":
        loss = loss.mean()
    elif reduction == "sum":
        loss = loss.sum()
    return loss


def test_reference_matches_torchvision_formula_on_every_case():
    for case in stored_cases(PROBLEM):
        args, named, _ = build_inputs(case)
        ours = reference(PROBLEM)(*args)
        logits, targets, alpha, gamma, reduction = args
        x2 = logits.detach().clone().requires_grad_(logits.requires_grad)
        theirs = torchvision_sigmoid_focal_loss(x2, targets, -1 if alpha is None else alpha, gamma, reduction)
        torch.testing.assert_close(ours, theirs, msg=case.name)
        np.testing.assert_allclose(ours.detach().numpy(), case.outputs["loss"], rtol=1e-4, atol=1e-6, err_msg=case.name)
        if case.grad:
            up = torch.from_numpy(np.asarray(case.inputs["_upstream"]))
            ours.backward(up)
            theirs.backward(up)
            torch.testing.assert_close(logits.grad, x2.grad, msg=case.name)


NEAR_MISSES = {
    "alpha-on-negatives": BUGS["alpha-swapped"],
}


@pytest.mark.parametrize("variant", NEAR_MISSES)
def test_near_misses_are_named(grade_source, variant):
    assert_near_miss(grade_source(PROBLEM, NEAR_MISSES[variant]), PROBLEM, variant)
