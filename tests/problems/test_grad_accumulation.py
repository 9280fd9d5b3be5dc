"""grad-accumulation: the reference's accumulated gradients equal one full-batch backward (autograd)
on every case; correct variants pass, realistic bugs fail."""

from __future__ import annotations

import pytest
import torch

from drillcli.graders.grad_accumulation import _loss_fn, _model, run
from drillcli.harness import to_user
from tests.support import assert_rejected, assert_within_half_tolerance, describe, reference, stored_cases

PROBLEM = "grad-accumulation"

CORRECT = {
    "zero-grad-and-split": """
        import torch
        def accumulate_gradients(model, loss_fn, x, y, micro_batch_size):
            model.zero_grad(set_to_none=True)
            N, total = len(x), 0.0
            for xb, yb in zip(torch.split(x, micro_batch_size), torch.split(y, micro_batch_size)):
                loss = loss_fn(model(xb), yb) * len(xb) / N
                loss.backward()
                total += loss.item()
            return total
    """,
    "autograd-grad-then-assign": """
        import torch
        def accumulate_gradients(model, loss_fn, x, y, micro_batch_size):
            params = [p for p in model.parameters() if p.requires_grad]
            acc = [torch.zeros_like(p) for p in params]
            N = x.shape[0]
            total = torch.zeros((), dtype=params[0].dtype)
            for s in range(0, N, micro_batch_size):
                xb, yb = x[s:s + micro_batch_size], y[s:s + micro_batch_size]
                loss = loss_fn(model(xb), yb)
                for a, g in zip(acc, torch.autograd.grad(loss, params)):
                    a += g * (len(xb) / N)
                total += loss.detach() * len(xb) / N
            for p, a in zip(params, acc):
                p.grad = a
            return total
    """,
    "sum-then-divide-by-n": """
        import torch
        def accumulate_gradients(model, loss_fn, x, y, micro_batch_size):
            for p in model.parameters():
                if p.grad is not None:
                    p.grad.zero_()
            N, total = x.shape[0], 0.0
            for s in range(0, N, micro_batch_size):
                xb, yb = x[s:s + micro_batch_size], y[s:s + micro_batch_size]
                loss_sum = loss_fn(model(xb), yb) * xb.shape[0]
                loss_sum.backward()
                total += float(loss_sum)
            for p in model.parameters():
                if p.grad is not None:
                    p.grad /= N
            return total / N
    """,
    "tensor-split-reverse-order": """
        import math, torch
        def accumulate_gradients(model, loss_fn, x, y, micro_batch_size):
            for p in model.parameters():
                p.grad = None
            N = len(x)
            k = math.ceil(N / micro_batch_size)
            pieces = list(zip(torch.tensor_split(x, k), torch.tensor_split(y, k)))
            total = 0
            for xb, yb in reversed(pieces):
                loss = loss_fn(model(xb), yb) * (xb.shape[0] / N)
                loss.backward()
                total = total + loss.detach()
            return total
    """,
}

_LOOP = """
import torch
def accumulate_gradients(model, loss_fn, x, y, micro_batch_size):
    for p in model.parameters():
        p.grad = None
    N = x.shape[0]
    starts = range(0, N, micro_batch_size)
    total = 0.0
    for s in starts:
        xb, yb = x[s:s + micro_batch_size], y[s:s + micro_batch_size]
"""

BUGS = {
    "divides-by-number-of-micro-batches": _LOOP + """
        loss = loss_fn(model(xb), yb) / len(starts)
        loss.backward()
        total += loss.item()
    return total
""",
    "no-scaling": _LOOP + """
        loss = loss_fn(model(xb), yb)
        loss.backward()
        total += loss.item() * len(xb) / N
    return total
""",
    "stale-gradients-kept": _LOOP.replace("        p.grad = None", "        pass") + """
        loss = loss_fn(model(xb), yb) * len(xb) / N
        loss.backward()
        total += loss.item()
    return total
""",
    "zero-grad-inside-loop": _LOOP + """
        model.zero_grad()
        loss = loss_fn(model(xb), yb) * len(xb) / N
        loss.backward()
        total += loss.item()
    return total
""",
    "returns-mean-of-micro-losses": _LOOP + """
        loss = loss_fn(model(xb), yb)
        (loss * len(xb) / N).backward()
        total += loss.item() / len(starts)
    return total
""",
    "returns-last-micro-loss": _LOOP + """
        loss = loss_fn(model(xb), yb)
        (loss * len(xb) / N).backward()
        total = loss.item()
    return total
""",
}


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass_within_half_tolerance(grade_source, name):
    assert_within_half_tolerance(grade_source(PROBLEM, CORRECT[name]))


@pytest.mark.parametrize("name", BUGS)
def test_bugs_fail(grade_source, name):
    verdict = grade_source(PROBLEM, BUGS[name])
    assert verdict.status == "failed", describe(verdict)
    assert_rejected(verdict)


def test_full_batch_forward_is_refused(grade_source):
    verdict = grade_source(PROBLEM, """
        def accumulate_gradients(model, loss_fn, x, y, micro_batch_size):
            model.zero_grad(set_to_none=True)
            loss = loss_fn(model(x), y)
            loss.backward()
            return loss.detach()
    """)
    assert verdict.status == "wrong_return", describe(verdict)
    assert "micro_batch_size" in verdict.first_failure().message


def test_dropped_remainder_is_named(grade_source):
    verdict = grade_source(PROBLEM, _LOOP.replace("range(0, N, micro_batch_size)", "range(0, N - micro_batch_size + 1, micro_batch_size)") + """
        loss = loss_fn(model(xb), yb) * len(xb) / N
        loss.backward()
        total += loss.item()
    return total
""")
    assert verdict.status == "wrong_return", describe(verdict)
    assert "the model saw 8 of 10 samples" in "\n".join(c.message for c in verdict.cases), describe(verdict)


def test_reference_equals_one_full_batch_backward_on_every_case():
    for case in stored_cases(PROBLEM):
        ours = run(reference(PROBLEM), "function", case, ["loss", "grads"])
        model = _model(case)
        loss = _loss_fn(case.inputs["_loss"])(model(to_user(case, "x")), to_user(case, "y"))
        loss.backward()
        full = torch.cat([p.grad.reshape(-1) for p in model.parameters() if p.requires_grad])
        torch.testing.assert_close(ours["grads"], full, msg=case.name)
        torch.testing.assert_close(ours["loss"], loss.detach(), msg=case.name)
