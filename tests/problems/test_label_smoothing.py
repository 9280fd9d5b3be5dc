"""label-smoothing: the reference equals F.cross_entropy(label_smoothing=...) on every case
(values and gradients), correct variants pass, realistic bugs fail."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from drillcli.harness import build_inputs
from tests.support import (assert_near_miss, assert_rejected, assert_within_half_tolerance, describe, mutate,
                           reference, stored_cases)

PROBLEM = "label-smoothing"

CORRECT = {
    "explicit-smoothed-distribution": """
        import torch
        def label_smoothing_cross_entropy(logits, target, smoothing=0.1, reduction="mean"):
            C = logits.shape[1]
            logp = logits.log_softmax(dim=1)
            q = torch.full_like(logp, smoothing / C)
            q.scatter_add_(1, target.unsqueeze(1), torch.full_like(target.unsqueeze(1), 1 - smoothing, dtype=logp.dtype))
            loss = -(q * logp).sum(dim=1)
            if reduction == "mean":
                return loss.mean()
            return loss.sum() if reduction == "sum" else loss
    """,
    "channels-last-flatten-logsumexp": """
        import torch
        def label_smoothing_cross_entropy(logits, target, smoothing=0.1, reduction="mean"):
            C = logits.shape[1]
            flat = logits.movedim(1, -1).reshape(-1, C)             # (M, C)
            t = target.reshape(-1)                                  # (M,)
            lse = torch.logsumexp(flat, dim=-1)                     # (M,)
            nll = lse - flat[torch.arange(flat.shape[0]), t]
            smooth = lse - flat.mean(dim=-1)
            loss = ((1 - smoothing) * nll + smoothing * smooth).reshape(target.shape)
            if reduction == "none":
                return loss
            return loss.sum() / max(loss.numel(), 1) if reduction == "mean" else loss.sum()
    """,
    "float64-one-hot": """
        import torch
        import torch.nn.functional as F
        def label_smoothing_cross_entropy(logits, target, smoothing=0.1, reduction="mean"):
            C = logits.shape[1]
            x = logits.double()
            m = x.amax(dim=1, keepdim=True)
            logp = x - m - torch.log(torch.exp(x - m).sum(dim=1, keepdim=True))
            onehot = F.one_hot(target, C).movedim(-1, 1).double()
            q = (1 - smoothing) * onehot + smoothing / C
            loss = -(q * logp).sum(dim=1)
            if reduction == "mean":
                loss = loss.mean()
            elif reduction == "sum":
                loss = loss.sum()
            return loss.to(logits.dtype)
    """,
    "loop-over-positions": """
        import torch
        def label_smoothing_cross_entropy(logits, target, smoothing=0.1, reduction="mean"):
            N, C = logits.shape[:2]
            L = 1
            for size in target.shape[1:]:
                L *= size
            flat, tt = logits.reshape(N, C, L), target.reshape(N, L)
            rows = []
            for n in range(N):
                for j in range(flat.shape[2]):
                    lp = torch.log_softmax(flat[n, :, j], dim=0)
                    rows.append(-(1 - smoothing) * lp[tt[n, j]] - smoothing * lp.sum() / C)
            loss = torch.stack(rows).reshape(target.shape) if rows else logits.new_zeros(target.shape)
            if reduction == "mean":
                return loss.mean()
            return loss.sum() if reduction == "sum" else loss
    """,
}

_BASE = """
    import torch
    def label_smoothing_cross_entropy(logits, target, smoothing=0.1, reduction="mean"):
        C = logits.shape[1]
        logp = torch.log_softmax(logits, dim=1)
        nll = -logp.gather(1, target.unsqueeze(1)).squeeze(1)
        uniform = -logp.sum(dim=1) / C
        loss = (1 - smoothing) * nll + smoothing * uniform
        if reduction == "mean":
            return loss.mean()
        if reduction == "sum":
            return loss.sum()
        return loss
"""


def _bug(old: str, new: str) -> str:
    return mutate(_BASE, (old, new))


BUGS = {
    "eps-over-c-minus-1-wrong-classes": _bug(
        "uniform = -logp.sum(dim=1) / C\n        loss = (1 - smoothing) * nll + smoothing * uniform",
        "others = (-logp.sum(dim=1) - nll) / (C - 1)\n        loss = (1 - smoothing) * nll + smoothing * others"),
    "smoothing-term-not-divided-by-c": _bug("uniform = -logp.sum(dim=1) / C", "uniform = -logp.sum(dim=1)"),
    "true-class-weight-one": _bug("loss = (1 - smoothing) * nll", "loss = nll"),
    "log-of-softmax": _bug("logp = torch.log_softmax(logits, dim=1)", "logp = torch.log(torch.softmax(logits, dim=1))"),
    "class-axis-last": _bug("C = logits.shape[1]\n        logp = torch.log_softmax(logits, dim=1)",
                            "C = logits.shape[1]\n        logp = torch.log_softmax(logits, dim=-1)"),
    "mean-over-classes-too": _bug("return loss.mean()", "return loss.mean() / C"),
    "smoothing-on-probabilities": _bug(
        "logp = torch.log_softmax(logits, dim=1)",
        "logp = torch.log((1 - smoothing) * torch.softmax(logits, dim=1) + smoothing / C)"),
    "sum-reduction-averages": _bug("return loss.sum()", "return loss.sum() / loss.shape[0]"),
    # smoothing = 0 is plain cross-entropy, not "use the default 0.1"
    "zero-smoothing-taken-as-default": _bug("C = logits.shape[1]", "smoothing = smoothing or 0.1\n        C = logits.shape[1]"),
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
        logits, target, eps, reduction = args
        ours = reference(PROBLEM)(logits, target, eps, reduction)
        x2 = logits.detach().clone().requires_grad_(logits.requires_grad)
        theirs = F.cross_entropy(x2, target, label_smoothing=eps, reduction=reduction)
        torch.testing.assert_close(ours, theirs, msg=case.name)
        np.testing.assert_allclose(ours.detach().numpy(), case.outputs["loss"], rtol=1e-5, atol=1e-6, err_msg=case.name)
        if case.grad:
            up = torch.from_numpy(np.asarray(case.inputs["_upstream"]))
            ours.backward(up)
            theirs.backward(up)
            torch.testing.assert_close(logits.grad, x2.grad, msg=case.name)


NEAR_MISSES = {
    "over-other-classes": BUGS["eps-over-c-minus-1-wrong-classes"],
}


@pytest.mark.parametrize("variant", NEAR_MISSES)
def test_near_misses_are_named(grade_source, variant):
    assert_near_miss(grade_source(PROBLEM, NEAR_MISSES[variant]), PROBLEM, variant)
