"""cross-entropy: values and logits gradients; the reference agrees with F.cross_entropy."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from drillcli.harness import build_inputs
from tests.support import (assert_near_miss, assert_rejected, assert_within_half_tolerance, describe,
                           mutate, reference, stored_cases)

PROBLEM = "cross-entropy"

CORRECT = {
    "max-shift-and-mask-weights": """
        import torch
        def cross_entropy(logits, targets, ignore_index=-100, label_smoothing=0.0):
            C = logits.shape[-1]
            x = logits.reshape(-1, C)
            t = targets.reshape(-1)
            z = x - x.max(dim=-1, keepdim=True).values
            logp = z - z.exp().sum(-1, keepdim=True).log()
            w = (t != ignore_index).to(x.dtype)
            safe = t.clamp(0, C - 1) * (t != ignore_index)
            nll = -logp[torch.arange(len(t)), safe]
            smooth = -logp.sum(-1) / C
            per_row = (1 - label_smoothing) * nll + label_smoothing * smooth
            return (per_row * w).sum() / w.sum()
    """,
    "smoothed-target-distribution": """
        import torch
        def cross_entropy(logits, targets, ignore_index=-100, label_smoothing=0.0):
            C = logits.shape[-1]
            x = logits.reshape(-1, C)
            t = targets.reshape(-1)
            keep = t != ignore_index
            x, t = x[keep], t[keep]
            q = torch.full_like(x, label_smoothing / C)
            q[torch.arange(len(t)), t] += 1 - label_smoothing
            logp = x - torch.logsumexp(x, dim=1, keepdim=True)
            return -(q * logp).sum() / len(t)
    """,
    "float64-and-one-hot": """
        import torch
        def cross_entropy(logits, targets, ignore_index=-100, label_smoothing=0.0):
            C = logits.shape[-1]
            x = logits.reshape(-1, C).double()
            t = targets.flatten()
            keep = (t != ignore_index)
            onehot = torch.nn.functional.one_hot(torch.where(keep, t, 0), C).double()
            lse = torch.logsumexp(x, -1)
            nll = lse - (onehot * x).sum(-1)
            smooth = lse - x.mean(-1)
            loss = torch.where(keep, (1 - label_smoothing) * nll + label_smoothing * smooth, 0.0)
            return (loss.sum() / keep.sum()).to(logits.dtype)
    """,
    "loop-over-rows": """
        import math, torch
        def cross_entropy(logits, targets, ignore_index=-100, label_smoothing=0.0):
            C = logits.shape[-1]
            x = logits.reshape(-1, C)
            t = targets.reshape(-1).tolist()
            total, count = 0.0, 0
            for i, y in enumerate(t):
                if y == ignore_index:
                    continue
                row = x[i]
                m = row.max()
                lse = m + torch.log(torch.exp(row - m).sum())
                total = total + (1 - label_smoothing) * (lse - row[y]) + label_smoothing * (lse - row.mean())
                count += 1
            return total / count
    """,
}

BUGS = {
    "mean-over-all-rows": """
        import torch
        def cross_entropy(logits, targets, ignore_index=-100, label_smoothing=0.0):
            C = logits.shape[-1]
            x, t = logits.reshape(-1, C), targets.reshape(-1)
            logp = x - torch.logsumexp(x, -1, keepdim=True)
            keep = t != ignore_index
            nll = -logp.gather(1, torch.where(keep, t, 0)[:, None]).squeeze(1)
            loss = (1 - label_smoothing) * nll + label_smoothing * -logp.mean(-1)
            return (loss * keep).sum() / len(t)
    """,
    "ignored-rows-clamped-not-dropped": """
        import torch
        def cross_entropy(logits, targets, ignore_index=-100, label_smoothing=0.0):
            C = logits.shape[-1]
            x, t = logits.reshape(-1, C), targets.reshape(-1)
            logp = x - torch.logsumexp(x, -1, keepdim=True)
            nll = -logp.gather(1, t.clamp(0, C - 1)[:, None]).squeeze(1)
            return ((1 - label_smoothing) * nll + label_smoothing * -logp.mean(-1)).mean()
    """,
    "smoothing-over-other-classes": """
        import torch
        def cross_entropy(logits, targets, ignore_index=-100, label_smoothing=0.0):
            C = logits.shape[-1]
            x, t = logits.reshape(-1, C), targets.reshape(-1)
            keep = t != ignore_index
            x, t = x[keep], t[keep]
            logp = x - torch.logsumexp(x, -1, keepdim=True)
            q = torch.full_like(x, label_smoothing / max(C - 1, 1))
            q[torch.arange(len(t)), t] = 1 - label_smoothing
            return -(q * logp).sum(-1).mean()
    """,
    "smoothing-sums-over-classes": """
        import torch
        def cross_entropy(logits, targets, ignore_index=-100, label_smoothing=0.0):
            C = logits.shape[-1]
            x, t = logits.reshape(-1, C), targets.reshape(-1)
            keep = t != ignore_index
            x, t = x[keep], t[keep]
            logp = x - torch.logsumexp(x, -1, keepdim=True)
            nll = -logp.gather(1, t[:, None]).squeeze(1)
            return ((1 - label_smoothing) * nll + label_smoothing * -logp.sum(-1)).mean()
    """,
    "log-of-softmax": """
        import torch
        def cross_entropy(logits, targets, ignore_index=-100, label_smoothing=0.0):
            C = logits.shape[-1]
            x, t = logits.reshape(-1, C), targets.reshape(-1)
            keep = t != ignore_index
            x, t = x[keep], t[keep]
            logp = torch.log(torch.softmax(x, -1))
            nll = -logp.gather(1, t[:, None]).squeeze(1)
            return ((1 - label_smoothing) * nll + label_smoothing * -logp.mean(-1)).mean()
    """,
    "no-max-shift": """
        import torch
        def cross_entropy(logits, targets, ignore_index=-100, label_smoothing=0.0):
            C = logits.shape[-1]
            x, t = logits.reshape(-1, C), targets.reshape(-1)
            keep = t != ignore_index
            x, t = x[keep], t[keep]
            logp = x - torch.log(torch.exp(x).sum(-1, keepdim=True))
            nll = -logp.gather(1, t[:, None]).squeeze(1)
            return ((1 - label_smoothing) * nll + label_smoothing * -logp.mean(-1)).mean()
    """,
    "sum-not-mean": """
        import torch
        def cross_entropy(logits, targets, ignore_index=-100, label_smoothing=0.0):
            C = logits.shape[-1]
            x, t = logits.reshape(-1, C), targets.reshape(-1)
            keep = t != ignore_index
            x, t = x[keep], t[keep]
            logp = x - torch.logsumexp(x, -1, keepdim=True)
            nll = -logp.gather(1, t[:, None]).squeeze(1)
            return ((1 - label_smoothing) * nll + label_smoothing * -logp.mean(-1)).sum()
    """,
    "smoothing-term-keeps-ignored-rows": """
        import torch
        def cross_entropy(logits, targets, ignore_index=-100, label_smoothing=0.0):
            C = logits.shape[-1]
            x, t = logits.reshape(-1, C), targets.reshape(-1)
            logp = x - torch.logsumexp(x, -1, keepdim=True)
            keep = t != ignore_index
            nll = -logp[keep].gather(1, t[keep][:, None]).mean()
            return (1 - label_smoothing) * nll + label_smoothing * -logp.mean(-1).mean()
    """,
    "logsumexp-over-batch-axis": """
        import torch
        def cross_entropy(logits, targets, ignore_index=-100, label_smoothing=0.0):
            C = logits.shape[-1]
            x, t = logits.reshape(-1, C), targets.reshape(-1)
            keep = t != ignore_index
            logp = x - torch.logsumexp(x, 0, keepdim=True)
            logp, t = logp[keep], t[keep]
            nll = -logp.gather(1, t[:, None]).squeeze(1)
            return ((1 - label_smoothing) * nll + label_smoothing * -logp.mean(-1)).mean()
    """,
}
# ignore_index = 0 is a pad id, not "no ignore_index": `if ignore_index` keeps the rows with target 0
BUGS["ignore-index-zero-taken-as-unset"] = mutate(
    CORRECT["smoothed-target-distribution"],
    ("keep = t != ignore_index", "keep = (t != ignore_index) if ignore_index else torch.ones_like(t, dtype=torch.bool)"))


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass_within_half_tolerance(grade_source, name):
    assert_within_half_tolerance(grade_source(PROBLEM, CORRECT[name]))


@pytest.mark.parametrize("name", BUGS)
def test_bugs_fail(grade_source, name):
    verdict = grade_source(PROBLEM, BUGS[name])
    assert verdict.status == "failed", describe(verdict)
    assert_rejected(verdict)


def test_library_log_softmax_is_refused(grade_source):
    verdict = grade_source(PROBLEM, """
        import torch
        def cross_entropy(logits, targets, ignore_index=-100, label_smoothing=0.0):
            C = logits.shape[-1]
            x, t = logits.reshape(-1, C), targets.reshape(-1)
            keep = t != ignore_index
            logp = x[keep].log_softmax(-1)
            return -logp.gather(1, t[keep][:, None]).mean()
    """)
    assert verdict.status == "forbidden", describe(verdict)


def test_reference_matches_torch_values_and_gradients_on_every_case():
    for case in stored_cases(PROBLEM):
        args, _, _ = build_inputs(case)
        logits = args[0].detach().double().requires_grad_(True)
        lib_logits = logits.detach().clone().requires_grad_(True)
        targets, ignore_index, smoothing = args[1], *(list(args[2:]) + [-100, 0.0][len(args) - 2:])
        ours = reference(PROBLEM)(logits, targets, ignore_index, smoothing)
        C = logits.shape[-1]
        theirs = F.cross_entropy(lib_logits.reshape(-1, C), targets.reshape(-1), ignore_index=ignore_index,
                                 label_smoothing=smoothing)
        upstream = torch.from_numpy(case.inputs["_upstream"]).double()
        ours.backward(upstream)
        theirs.backward(upstream)
        torch.testing.assert_close(ours, theirs, msg=case.name)
        torch.testing.assert_close(logits.grad, lib_logits.grad, msg=case.name)
        assert ours.shape == () and torch.isfinite(ours), case.name


NEAR_MISSES = {
    "mean-over-all-rows": BUGS["mean-over-all-rows"],
    "smoothing-over-other-classes": BUGS["smoothing-over-other-classes"],
}


@pytest.mark.parametrize("variant", NEAR_MISSES)
def test_near_misses_are_named(grade_source, variant):
    assert_near_miss(grade_source(PROBLEM, NEAR_MISSES[variant]), PROBLEM, variant)
