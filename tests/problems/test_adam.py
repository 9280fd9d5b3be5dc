"""adam: the reference equals torch.optim.Adam on every case, correct variants pass, realistic bugs fail."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from drillcli.catalog import Catalog
from drillcli.graders import adam as grader
from tests.support import (assert_near_miss, assert_rejected, assert_within_half_tolerance, describe, mutate,
                           reference, stored_cases)

PROBLEM = "adam"

CORRECT = {
    "torch-style-addcdiv-per-param-state": """
        import math, torch
        class Adam:
            def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
                self.params = [p for p in params]
                self.lr, self.betas, self.eps, self.wd = lr, betas, eps, weight_decay
                self.state = {}
            def zero_grad(self):
                for p in self.params:
                    if p.grad is not None:
                        p.grad.zero_()
            @torch.no_grad()
            def step(self):
                b1, b2 = self.betas
                for p in self.params:
                    if p.grad is None:
                        continue
                    st = self.state.setdefault(p, {"step": 0, "m": torch.zeros_like(p), "v": torch.zeros_like(p)})
                    st["step"] += 1
                    t = st["step"]
                    grad = p.grad.add(p, alpha=self.wd) if self.wd != 0 else p.grad
                    st["m"].lerp_(grad, 1 - b1)
                    st["v"].mul_(b2).addcmul_(grad, grad, value=1 - b2)
                    denom = (st["v"].sqrt() / math.sqrt(1 - b2 ** t)).add_(self.eps)
                    p.addcdiv_(st["m"], denom, value=-self.lr / (1 - b1 ** t))
    """,
    "float64-state-copy-back": """
        import torch
        class Adam:
            def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
                self.params = list(params)
                self.lr, (self.b1, self.b2), self.eps, self.wd = lr, betas, eps, weight_decay
                self.m = [torch.zeros(p.shape, dtype=torch.float64) for p in self.params]
                self.v = [torch.zeros(p.shape, dtype=torch.float64) for p in self.params]
                self.t = 0
            def zero_grad(self):
                for p in self.params:
                    p.grad = None
            def step(self):
                self.t += 1
                with torch.no_grad():
                    for i, p in enumerate(self.params):
                        if p.grad is None:
                            continue
                        theta = p.double()
                        g = p.grad.double() + self.wd * theta
                        self.m[i] = self.b1 * self.m[i] + (1 - self.b1) * g
                        self.v[i] = self.b2 * self.v[i] + (1 - self.b2) * g ** 2
                        m_hat = self.m[i] / (1 - self.b1 ** self.t)
                        v_hat = self.v[i] / (1 - self.b2 ** self.t)
                        p.copy_(theta - self.lr * m_hat / (torch.sqrt(v_hat) + self.eps))
    """,
    "flat-python-floats": """
        import math, torch
        class Adam:
            def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
                self.ps = list(params)
                self.h = (lr, betas[0], betas[1], eps, weight_decay)
                self.m = [[0.0] * p.numel() for p in self.ps]
                self.v = [[0.0] * p.numel() for p in self.ps]
                self.t = 0
            def zero_grad(self):
                for p in self.ps:
                    p.grad = None
            def step(self):
                lr, b1, b2, eps, wd = self.h
                self.t += 1
                for k, p in enumerate(self.ps):
                    if p.grad is None:
                        continue
                    vals, grads = p.detach().reshape(-1).tolist(), p.grad.reshape(-1).tolist()
                    new = []
                    for i, (x, g) in enumerate(zip(vals, grads)):
                        g = g + wd * x
                        self.m[k][i] = b1 * self.m[k][i] + (1 - b1) * g
                        self.v[k][i] = b2 * self.v[k][i] + (1 - b2) * g * g
                        mh = self.m[k][i] / (1 - b1 ** self.t)
                        vh = self.v[k][i] / (1 - b2 ** self.t)
                        new.append(x - lr * mh / (math.sqrt(vh) + eps))
                    with torch.no_grad():
                        p.copy_(torch.tensor(new, dtype=p.dtype).reshape(p.shape))
    """,
    "in-place-grad-and-data": """
        import torch
        class Adam:
            def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
                self.params = list(params)
                self.lr, self.betas, self.eps, self.wd = lr, betas, eps, weight_decay
                self.exp_avg = {id(p): torch.zeros_like(p.data) for p in self.params}
                self.exp_avg_sq = {id(p): torch.zeros_like(p.data) for p in self.params}
                self.t = 0
            def zero_grad(self):
                for p in self.params:
                    p.grad = None
            def step(self):
                self.t += 1
                b1, b2 = self.betas
                for p in self.params:
                    if p.grad is None:
                        continue
                    p.grad.data.add_(p.data, alpha=self.wd)
                    m, v = self.exp_avg[id(p)], self.exp_avg_sq[id(p)]
                    m.copy_(b1 * m + (1 - b1) * p.grad.data)
                    v.copy_(b2 * v + (1 - b2) * p.grad.data.pow(2))
                    update = (m / (1 - b1 ** self.t)) / ((v / (1 - b2 ** self.t)).sqrt() + self.eps)
                    p.data = p.data - self.lr * update
    """,
}

_BASE = """
    import torch
    class Adam:
        def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
            self.params = list(params)
            self.lr, self.betas, self.eps, self.wd = lr, betas, eps, weight_decay
            self.m = [torch.zeros_like(p) for p in self.params]
            self.v = [torch.zeros_like(p) for p in self.params]
            self.t = 0
        def zero_grad(self):
            for p in self.params:
                p.grad = None
        @torch.no_grad()
        def step(self):
            self.t += 1
            b1, b2 = self.betas
            for p, m, v in zip(self.params, self.m, self.v):
                if p.grad is None:
                    continue
                g = p.grad + self.wd * p
                m.mul_(b1).add_(g, alpha=1 - b1)
                v.mul_(b2).addcmul_(g, g, value=1 - b2)
                m_hat, v_hat = m / (1 - b1 ** self.t), v / (1 - b2 ** self.t)
                p.sub_(self.lr * m_hat / (v_hat.sqrt() + self.eps))
"""


def _bug(old: str, new: str) -> str:
    return mutate(_BASE, (old, new))


BUGS = {
    "decoupled-decay-like-adamw": _bug("g = p.grad + self.wd * p", "g = p.grad\n                p.mul_(1 - self.lr * self.wd)"),
    "l2-added-to-the-update": _bug(
        "g = p.grad + self.wd * p", "g = p.grad").replace(
        "p.sub_(self.lr * m_hat / (v_hat.sqrt() + self.eps))",
        "p.sub_(self.lr * (m_hat / (v_hat.sqrt() + self.eps) + self.wd * p))"),
    "l2-only-in-first-moment": _bug("v.mul_(b2).addcmul_(g, g, value=1 - b2)",
                                    "v.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)"),
    "l2-with-sign-flipped": _bug("g = p.grad + self.wd * p", "g = p.grad - self.wd * p"),
    "no-bias-correction": _bug("m / (1 - b1 ** self.t), v / (1 - b2 ** self.t)", "m, v"),
    "bias-correction-off-by-one": _bug("m / (1 - b1 ** self.t), v / (1 - b2 ** self.t)",
                                       "m / (1 - b1 ** (self.t + 1)), v / (1 - b2 ** (self.t + 1))"),
    "eps-inside-sqrt": _bug("(v_hat.sqrt() + self.eps)", "(v_hat + self.eps).sqrt()"),
    "tensorflow-epsilon-hat": _bug(
        "m_hat, v_hat = m / (1 - b1 ** self.t), v / (1 - b2 ** self.t)\n                p.sub_(self.lr * m_hat / (v_hat.sqrt() + self.eps))",
        "lr_t = self.lr * (1 - b2 ** self.t) ** 0.5 / (1 - b1 ** self.t)\n                p.sub_(lr_t * m / (v.sqrt() + self.eps))"),
    "step-counter-per-parameter": _bug(
        "self.t += 1\n            b1, b2", "b1, b2").replace(
        "g = p.grad + self.wd * p\n", "g = p.grad + self.wd * p\n                self.t += 1\n"),
    "betas-swapped": _bug("b1, b2 = self.betas", "b2, b1 = self.betas"),
    "second-moment-without-one-minus-beta": _bug("addcmul_(g, g, value=1 - b2)", "addcmul_(g, g)"),
    "zero-grad-does-nothing": _bug("for p in self.params:\n                p.grad = None", "pass"),
    "skips-all-zero-gradients": _bug("if p.grad is None:", "if p.grad is None or not p.grad.any():"),
    "eps-zero-taken-as-default": _bug("(v_hat.sqrt() + self.eps)", "(v_hat.sqrt() + (self.eps or 1e-8))"),
    "beta1-zero-taken-as-default": _bug("b1, b2 = self.betas", "b1, b2 = self.betas\n            b1 = b1 or 0.9"),
}


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass(grade_source, name):
    assert_within_half_tolerance(grade_source(PROBLEM, CORRECT[name]))


@pytest.mark.parametrize("name", BUGS)
def test_bugs_fail(grade_source, name):
    verdict = grade_source(PROBLEM, BUGS[name])
    assert verdict.status == "failed", describe(verdict)
    assert_rejected(verdict)


def test_torch_optim_is_forbidden(grade_source):
    verdict = grade_source(PROBLEM, """
        from torch.optim import Adam
    """)
    assert verdict.status == "forbidden", describe(verdict)


def test_reference_matches_torch_optim_on_every_case():
    spec = Catalog().spec(PROBLEM)
    for case in stored_cases(PROBLEM):
        ours = grader.run(reference(PROBLEM), "class", case, ["params"])["params"]
        theirs = grader.run(torch.optim.Adam, "class", case, ["params"])["params"]
        torch.testing.assert_close(ours, theirs, msg=case.name)
        atol, rtol = spec.tol(str(case.outputs["params"].dtype))
        np.testing.assert_allclose(theirs.numpy(), case.outputs["params"], atol=atol, rtol=rtol, err_msg=case.name)


NEAR_MISSES = {
    "epsilon-hat": BUGS["tensorflow-epsilon-hat"],
    "no-bias-correction": BUGS["no-bias-correction"],
    "decoupled-decay": BUGS["decoupled-decay-like-adamw"],
}


@pytest.mark.parametrize("variant", NEAR_MISSES)
def test_near_misses_are_named(grade_source, variant):
    assert_near_miss(grade_source(PROBLEM, NEAR_MISSES[variant]), PROBLEM, variant)
