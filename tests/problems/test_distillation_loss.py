"""distillation-loss: the reference agrees with torch.nn.functional.kl_div (reduction='batchmean',
log_target=True, on the non-ignored rows) plus F.cross_entropy (ignore_index) on every stored
case, values and student gradients; correct variants pass with a margin, realistic bugs fail."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from drillcli.harness import build_inputs
from tests.support import (assert_near_miss, assert_rejected, assert_within_half_tolerance, describe, mutate,
                           reference, stored_cases)

PROBLEM = "distillation-loss"

_BASE = """
    import torch
    def distillation_loss(student_logits, teacher_logits, labels, T=2.0, alpha=0.5, ignore_index=-100):
        keep = labels != ignore_index
        s, t, y = student_logits[keep], teacher_logits[keep], labels[keep]
        log_q = torch.log_softmax(s / T, dim=-1)
        log_p = torch.log_softmax(t / T, dim=-1)
        kl = (log_p.exp() * (log_p - log_q)).sum(dim=-1).mean()
        log_probs = torch.log_softmax(s, dim=-1)
        ce = -log_probs.gather(1, y[:, None]).squeeze(1).mean()
        return alpha * T ** 2 * kl + (1 - alpha) * ce
"""

CORRECT = {
    "logsumexp-and-row-weights": """
        import torch
        def distillation_loss(student_logits, teacher_logits, labels, T=2.0, alpha=0.5, ignore_index=-100):
            w = (labels != ignore_index).to(student_logits.dtype)
            n = w.sum()
            zs, zt = student_logits / T, teacher_logits / T
            log_q = zs - torch.logsumexp(zs, -1, keepdim=True)
            log_p = zt - torch.logsumexp(zt, -1, keepdim=True)
            kl_rows = (torch.exp(log_p) * (log_p - log_q)).sum(-1)
            logp1 = student_logits - torch.logsumexp(student_logits, -1, keepdim=True)
            safe = torch.where(labels == ignore_index, 0, labels)
            nll = -logp1.gather(1, safe[:, None]).squeeze(1)
            return alpha * T * T * (kl_rows * w).sum() / n + (1 - alpha) * (nll * w).sum() / n
    """,
    "cross-entropy-minus-entropy": """
        import torch
        import torch.nn.functional as F
        def distillation_loss(student_logits, teacher_logits, labels, T=2.0, alpha=0.5, ignore_index=-100):
            keep = labels != ignore_index
            s, t, y = student_logits[keep], teacher_logits[keep], labels[keep]
            log_p = F.log_softmax(t / T, dim=1)
            p = F.softmax(t / T, dim=1)
            soft_ce = -(p * F.log_softmax(s / T, dim=1)).sum(1)      # H(p, q)
            entropy = -(p * log_p).sum(1)                            # H(p)
            onehot = F.one_hot(y, s.shape[1]).to(s.dtype)
            hard = -(onehot * F.log_softmax(s, dim=1)).sum(1)
            return (alpha * T ** 2 * (soft_ce - entropy) + (1 - alpha) * hard).mean()
    """,
    "float64-max-shift-loop": """
        import torch
        def _log_softmax(x):
            z = x - x.max()
            return z - torch.log(torch.exp(z).sum())
        def distillation_loss(student_logits, teacher_logits, labels, T=2.0, alpha=0.5, ignore_index=-100):
            dt = student_logits.dtype
            s64, t64 = student_logits.double(), teacher_logits.double()
            kl_total, ce_total, count = 0.0, 0.0, 0
            for i, y in enumerate(labels.tolist()):
                if y == ignore_index:
                    continue
                lq, lp = _log_softmax(s64[i] / T), _log_softmax(t64[i] / T)
                kl_total = kl_total + (lp.exp() * (lp - lq)).sum()
                ce_total = ce_total - _log_softmax(s64[i])[y]
                count += 1
            return (alpha * T ** 2 * kl_total / count + (1 - alpha) * ce_total / count).to(dt)
    """,
    "batchmean-by-hand-2d": """
        import torch
        def distillation_loss(student_logits, teacher_logits, labels, T=2.0, alpha=0.5, ignore_index=-100):
            rows = torch.nonzero(labels != ignore_index).squeeze(1)
            s = student_logits.index_select(0, rows)
            t = teacher_logits.index_select(0, rows)
            y = labels.index_select(0, rows)
            log_q = torch.log_softmax(s / T, dim=-1)
            log_p = torch.log_softmax(t / T, dim=-1)
            pointwise = torch.exp(log_p) * (log_p - log_q)          # what F.kl_div(log_q, log_p, log_target=True) sums
            kl = pointwise.sum() / s.shape[0]                       # 'batchmean'
            ce = -torch.log_softmax(s, dim=-1)[torch.arange(len(y)), y].sum() / s.shape[0]
            return alpha * (T ** 2) * kl + (1.0 - alpha) * ce
    """,
}


def _bug(*pairs: tuple[str, str]) -> str:
    return mutate(_BASE, *pairs)


BUGS = {
    "reversed-kl": _bug(("kl = (log_p.exp() * (log_p - log_q))", "kl = (log_q.exp() * (log_q - log_p))")),
    "no-t-squared": _bug(("alpha * T ** 2 * kl", "alpha * kl")),
    "kl-mean-over-classes": _bug(("kl = (log_p.exp() * (log_p - log_q)).sum(dim=-1).mean()",
                                  "kl = (log_p.exp() * (log_p - log_q)).mean()")),
    "kl-over-all-rows": _bug(("log_q = torch.log_softmax(s / T, dim=-1)\n        log_p = torch.log_softmax(t / T, dim=-1)",
                              "log_q = torch.log_softmax(student_logits / T, dim=-1)\n"
                              "        log_p = torch.log_softmax(teacher_logits / T, dim=-1)")),
    "ce-at-temperature": _bug(("log_probs = torch.log_softmax(s, dim=-1)", "log_probs = torch.log_softmax(s / T, dim=-1)")),
    "log-of-softmax": _bug(("log_q = torch.log_softmax(s / T, dim=-1)\n        log_p = torch.log_softmax(t / T, dim=-1)",
                            "log_q = torch.log(torch.softmax(s / T, dim=-1))\n"
                            "        log_p = torch.log(torch.softmax(t / T, dim=-1))")),
    "teacher-not-softened": _bug(("log_p = torch.log_softmax(t / T, dim=-1)", "log_p = torch.log_softmax(t, dim=-1)")),
    "alpha-weights-swapped": _bug(("return alpha * T ** 2 * kl + (1 - alpha) * ce", "return (1 - alpha) * T ** 2 * kl + alpha * ce")),
    "divides-by-t-squared": _bug(("alpha * T ** 2 * kl", "alpha * kl / T ** 2")),
    "sum-over-rows": _bug(("kl = (log_p.exp() * (log_p - log_q)).sum(dim=-1).mean()", "kl = (log_p.exp() * (log_p - log_q)).sum()"),
                          ("ce = -log_probs.gather(1, y[:, None]).squeeze(1).mean()", "ce = -log_probs.gather(1, y[:, None]).sum()")),
    "alpha-zero-treated-as-unset": _bug(("keep = labels != ignore_index", "alpha = alpha or 0.5\n        keep = labels != ignore_index")),
}


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass_within_half_tolerance(grade_source, name):
    assert_within_half_tolerance(grade_source(PROBLEM, CORRECT[name]))


@pytest.mark.parametrize("name", BUGS)
def test_bugs_fail(grade_source, name):
    verdict = grade_source(PROBLEM, BUGS[name])
    assert verdict.status == "failed", describe(verdict)
    assert_rejected(verdict)


def test_library_kl_div_is_refused(grade_source):
    verdict = grade_source(PROBLEM, """
        import torch.nn.functional as F
        def distillation_loss(student_logits, teacher_logits, labels, T=2.0, alpha=0.5, ignore_index=-100):
            kl = F.kl_div(F.log_softmax(student_logits / T, -1), F.log_softmax(teacher_logits / T, -1),
                          reduction="batchmean", log_target=True)
            return alpha * T ** 2 * kl + (1 - alpha) * F.cross_entropy(student_logits, labels)
    """)
    assert verdict.status == "forbidden", describe(verdict)


def test_reference_matches_torch_kl_div_and_cross_entropy_on_every_case():
    for case in stored_cases(PROBLEM):
        args, _, _ = build_inputs(case)
        s = args[0].detach().double().requires_grad_(True)
        t, labels = args[1].detach().double(), args[2]
        T, alpha, ignore_index = (list(args[3:]) + [2.0, 0.5, -100][len(args) - 3:])
        ours = reference(PROBLEM)(s, t, labels, T, alpha, ignore_index)
        s_lib = s.detach().clone().requires_grad_(True)
        keep = labels != ignore_index
        kl = F.kl_div(F.log_softmax(s_lib[keep] / T, -1), F.log_softmax(t[keep] / T, -1), reduction="batchmean",
                      log_target=True)
        ce = F.cross_entropy(s_lib, labels, ignore_index=ignore_index)
        theirs = alpha * T ** 2 * kl + (1 - alpha) * ce
        upstream = torch.from_numpy(np.asarray(case.inputs["_upstream"])).double()
        ours.backward(upstream)
        theirs.backward(upstream)
        torch.testing.assert_close(ours, theirs, rtol=1e-10, atol=1e-12, msg=case.name)
        torch.testing.assert_close(s.grad, s_lib.grad, rtol=1e-9, atol=1e-12, msg=case.name)
        assert ours.shape == () and torch.isfinite(ours), case.name
        np.testing.assert_allclose(case.outputs["loss"], ours.item(), rtol=1e-6, atol=1e-7, err_msg=case.name)


NEAR_MISSES = {
    "reversed-kl": BUGS["reversed-kl"],
    "no-t-squared": BUGS["no-t-squared"],
    "kl-mean-over-classes": BUGS["kl-mean-over-classes"],
    "kl-over-all-rows": BUGS["kl-over-all-rows"],
}


@pytest.mark.parametrize("variant", NEAR_MISSES)
def test_near_misses_are_named(grade_source, variant):
    assert_near_miss(grade_source(PROBLEM, NEAR_MISSES[variant]), PROBLEM, variant)


def test_enough_alternatives_and_bugs():
    assert len(CORRECT) >= 3 and len(BUGS) >= 5
