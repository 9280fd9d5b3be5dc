"""infonce: the reference equals an independent F.cross_entropy formulation (on F.normalize'd
inputs) on every case, values and gradients; correct variants pass, realistic bugs fail."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from drillcli.harness import build_inputs
from tests.support import (assert_near_miss, assert_rejected, assert_within_half_tolerance, describe, mutate,
                           reference, stored_cases)

PROBLEM = "infonce"

CORRECT = {
    "normalize-and-diagonal-log-softmax": """
        import torch
        import torch.nn.functional as F
        def info_nce_loss(a, b, temperature=0.07, symmetric=True):
            logits = F.normalize(a, dim=-1) @ F.normalize(b, dim=-1).T / temperature
            ab = -torch.diagonal(logits.log_softmax(dim=1)).mean()
            if not symmetric:
                return ab
            ba = -torch.diagonal(logits.log_softmax(dim=0)).mean()
            return 0.5 * (ab + ba)
    """,
    "logsumexp-form": """
        import torch
        def info_nce_loss(a, b, temperature=0.07, symmetric=True):
            a = a * a.pow(2).sum(-1, keepdim=True).rsqrt()
            b = b * b.pow(2).sum(-1, keepdim=True).rsqrt()
            s = torch.einsum("id,jd->ij", a, b) / temperature
            pos = s.diagonal()
            ab = (torch.logsumexp(s, dim=1) - pos).mean()
            ba = (torch.logsumexp(s, dim=0) - pos).mean()
            return (ab + ba) / 2 if symmetric else ab
    """,
    "float64-cosine-similarity": """
        import torch
        import torch.nn.functional as F
        def info_nce_loss(a, b, temperature=0.07, symmetric=True):
            A, B = a.double(), b.double()
            sim = F.cosine_similarity(A[:, None, :], B[None, :, :], dim=-1, eps=0.0)   # (N, N)
            logits = sim / temperature
            labels = torch.arange(len(A))
            loss = F.cross_entropy(logits, labels)
            if symmetric:
                loss = (loss + F.cross_entropy(logits.t(), labels)) / 2
            return loss.to(a.dtype)
    """,
    "stacked-directions-manual-softmax": """
        import torch
        def info_nce_loss(a, b, temperature=0.07, symmetric=True):
            an = a / torch.linalg.vector_norm(a, dim=1, keepdim=True)
            bn = b / torch.linalg.vector_norm(b, dim=1, keepdim=True)
            logits = (an / temperature) @ bn.transpose(0, 1)
            both = torch.stack([logits, logits.T]) if symmetric else logits[None]     # (k, N, N)
            z = both - both.amax(dim=-1, keepdim=True)
            logp = z - torch.log(torch.exp(z).sum(dim=-1, keepdim=True))
            idx = torch.arange(a.shape[0])
            return -logp[:, idx, idx].mean()
    """,
}

_BASE = """
    import torch
    import torch.nn.functional as F
    def info_nce_loss(a, b, temperature=0.07, symmetric=True):
        a = a / a.norm(dim=1, keepdim=True)
        b = b / b.norm(dim=1, keepdim=True)
        logits = a @ b.T / temperature
        labels = torch.arange(a.shape[0])
        loss_ab = F.cross_entropy(logits, labels)
        if not symmetric:
            return loss_ab
        loss_ba = F.cross_entropy(logits.T, labels)
        return (loss_ab + loss_ba) / 2
"""


def _bug(old: str, new: str) -> str:
    return mutate(_BASE, (old, new))


BUGS = {
    "no-normalisation": _bug("        a = a / a.norm(dim=1, keepdim=True)\n        b = b / b.norm(dim=1, keepdim=True)\n", ""),
    "normalised-over-batch-axis": _bug("a = a / a.norm(dim=1, keepdim=True)\n        b = b / b.norm(dim=1, keepdim=True)",
                                       "a = a / a.norm(dim=0, keepdim=True)\n        b = b / b.norm(dim=0, keepdim=True)"),
    "multiplies-by-temperature": _bug("a @ b.T / temperature", "a @ b.T * temperature"),
    "same-direction-twice": _bug("F.cross_entropy(logits.T, labels)", "F.cross_entropy(logits, labels)"),
    "sum-of-directions": _bug("return (loss_ab + loss_ba) / 2", "return loss_ab + loss_ba"),
    "ignores-symmetric-flag": _bug("        if not symmetric:\n            return loss_ab\n", ""),
    "positive-excluded-from-denominator": _bug(
        "loss_ab = F.cross_entropy(logits, labels)",
        "eye = torch.eye(len(labels), dtype=torch.bool)\n"
        "        neg = logits.masked_fill(eye, float('-inf'))\n"
        "        loss_ab = (torch.logsumexp(neg, 1) - logits.diagonal()).mean()").replace(
        "loss_ba = F.cross_entropy(logits.T, labels)", "loss_ba = (torch.logsumexp(neg, 0) - logits.diagonal()).mean()"),
    "naive-exp-overflows": _bug(
        "loss_ab = F.cross_entropy(logits, labels)",
        "e = torch.exp(logits)\n        loss_ab = -torch.log(e.diagonal() / e.sum(1)).mean()").replace(
        "loss_ba = F.cross_entropy(logits.T, labels)", "loss_ba = -torch.log(e.diagonal() / e.sum(0)).mean()"),
    "nt-xent-style-negatives": _bug(
        "loss_ab = F.cross_entropy(logits, labels)",
        "same = (a @ a.T / temperature).masked_fill(torch.eye(len(labels), dtype=torch.bool), float('-inf'))\n"
        "        loss_ab = F.cross_entropy(torch.cat([logits, same], dim=1), labels)"),
}


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass_within_half_tolerance(grade_source, name):
    assert_within_half_tolerance(grade_source(PROBLEM, CORRECT[name]))


@pytest.mark.parametrize("name", BUGS)
def test_bugs_fail(grade_source, name):
    verdict = grade_source(PROBLEM, BUGS[name])
    assert verdict.status == "failed", describe(verdict)
    assert_rejected(verdict)


def clip_loss(a, b, temperature, symmetric):
    """The CLIP paper's pseudo-code: normalise, scaled pairwise cosine, symmetric cross-entropy."""
    logits = F.normalize(a, dim=1) @ F.normalize(b, dim=1).T / temperature
    labels = torch.arange(a.shape[0])
    loss_i = F.cross_entropy(logits, labels)
    loss_t = F.cross_entropy(logits, labels) if not symmetric else F.cross_entropy(logits.T, labels)
    return (loss_i + loss_t) / 2


def test_reference_matches_cross_entropy_formulation_on_every_case():
    for case in stored_cases(PROBLEM):
        args, _, _ = build_inputs(case)
        a, b, temperature, symmetric = args
        ours = reference(PROBLEM)(a, b, temperature, symmetric)
        a2, b2 = (t.detach().clone().requires_grad_(t.requires_grad) for t in (a, b))
        theirs = clip_loss(a2, b2, temperature, symmetric)
        torch.testing.assert_close(ours, theirs, msg=case.name)
        np.testing.assert_allclose(ours.detach().numpy(), case.outputs["loss"], rtol=1e-4, atol=1e-6, err_msg=case.name)
        if case.grad:
            up = torch.from_numpy(np.asarray(case.inputs["_upstream"]))
            ours.backward(up)
            theirs.backward(up)
            torch.testing.assert_close(a.grad, a2.grad, msg=case.name)
            torch.testing.assert_close(b.grad, b2.grad, msg=case.name)


NEAR_MISSES = {
    "dot-product": BUGS["no-normalisation"],
}


@pytest.mark.parametrize("variant", NEAR_MISSES)
def test_near_misses_are_named(grade_source, variant):
    assert_near_miss(grade_source(PROBLEM, NEAR_MISSES[variant]), PROBLEM, variant)
