"""adamw: the reference equals torch.optim.AdamW on every case, correct variants pass, realistic bugs fail."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from drillcli.catalog import Catalog
from drillcli.graders import adamw as grader
from tests.support import (assert_near_miss, assert_rejected, assert_within_half_tolerance, describe, mutate,
                           reference, stored_cases)

PROBLEM = "adamw"

CORRECT = {
    "torch-style-addcdiv-per-param-state": """
        import math, torch
        class AdamW:
            def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
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
                    p.mul_(1 - self.lr * self.wd)
                    st["m"].lerp_(p.grad, 1 - b1)
                    st["v"].mul_(b2).addcmul_(p.grad, p.grad.conj(), value=1 - b2)
                    step_size = self.lr / (1 - b1 ** t)
                    denom = (st["v"].sqrt() / math.sqrt(1 - b2 ** t)).add_(self.eps)
                    p.addcdiv_(st["m"], denom, value=-step_size)
    """,
    "paper-formula-float64-state": """
        import torch
        class AdamW:
            def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
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
                        g, theta = p.grad.double(), p.double()
                        self.m[i] = self.b1 * self.m[i] + (1 - self.b1) * g
                        self.v[i] = self.b2 * self.v[i] + (1 - self.b2) * g ** 2
                        m_hat = self.m[i] / (1 - self.b1 ** self.t)
                        v_hat = self.v[i] / (1 - self.b2 ** self.t)
                        # theta_t = theta_{t-1} - lr * (m_hat / (sqrt(v_hat) + eps) + wd * theta_{t-1})
                        p.copy_(theta - self.lr * (m_hat / (torch.sqrt(v_hat) + self.eps) + self.wd * theta))
    """,
    "flat-python-floats": """
        import math, torch
        class AdamW:
            def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
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
                        x = x * (1 - lr * wd)
                        self.m[k][i] = b1 * self.m[k][i] + (1 - b1) * g
                        self.v[k][i] = b2 * self.v[k][i] + (1 - b2) * g * g
                        mh = self.m[k][i] / (1 - b1 ** self.t)
                        vh = self.v[k][i] / (1 - b2 ** self.t)
                        new.append(x - lr * mh / (math.sqrt(vh) + eps))
                    with torch.no_grad():
                        p.copy_(torch.tensor(new, dtype=p.dtype).reshape(p.shape))
    """,
    "data-attribute-updates": """
        import torch
        class AdamW:
            def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
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
                    m, v = self.exp_avg[id(p)], self.exp_avg_sq[id(p)]
                    m.copy_(b1 * m + (1 - b1) * p.grad.data)
                    v.copy_(b2 * v + (1 - b2) * p.grad.data.pow(2))
                    update = (m / (1 - b1 ** self.t)) / ((v / (1 - b2 ** self.t)).sqrt() + self.eps)
                    p.data = p.data - self.lr * self.wd * p.data - self.lr * update
    """,
}

_BASE = """
    import torch
    class AdamW:
        def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
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
                g = p.grad
                p.mul_(1 - self.lr * self.wd)
                m.mul_(b1).add_(g, alpha=1 - b1)
                v.mul_(b2).addcmul_(g, g, value=1 - b2)
                m_hat, v_hat = m / (1 - b1 ** self.t), v / (1 - b2 ** self.t)
                p.sub_(self.lr * m_hat / (v_hat.sqrt() + self.eps))
"""


def _bug(old: str, new: str, count: int = 1) -> str:
    return mutate(_BASE, (old, new), count=count)


BUGS = {
    "l2-penalty-instead-of-decoupled": _bug(
        "g = p.grad\n                p.mul_(1 - self.lr * self.wd)", "g = p.grad + self.wd * p"),
    "decay-not-scaled-by-lr": _bug("p.mul_(1 - self.lr * self.wd)", "p.mul_(1 - self.wd)"),
    "decay-after-the-update": _bug(
        "                p.mul_(1 - self.lr * self.wd)\n", "").replace(
        "p.sub_(self.lr * m_hat / (v_hat.sqrt() + self.eps))",
        "p.sub_(self.lr * m_hat / (v_hat.sqrt() + self.eps))\n                p.mul_(1 - self.lr * self.wd)"),
    "no-bias-correction": _bug("m / (1 - b1 ** self.t), v / (1 - b2 ** self.t)", "m, v"),
    "bias-correction-only-on-m": _bug("m / (1 - b1 ** self.t), v / (1 - b2 ** self.t)", "m / (1 - b1 ** self.t), v"),
    "eps-inside-sqrt": _bug("(v_hat.sqrt() + self.eps)", "(v_hat + self.eps).sqrt()"),
    "tensorflow-epsilon-hat": _bug(
        "m_hat, v_hat = m / (1 - b1 ** self.t), v / (1 - b2 ** self.t)\n                p.sub_(self.lr * m_hat / (v_hat.sqrt() + self.eps))",
        "lr_t = self.lr * (1 - b2 ** self.t) ** 0.5 / (1 - b1 ** self.t)\n                p.sub_(lr_t * m / (v.sqrt() + self.eps))"),
    "step-counter-per-parameter": _bug(
        "self.t += 1\n            b1, b2", "b1, b2").replace("g = p.grad\n", "g = p.grad\n                self.t += 1\n"),
    "bias-correction-off-by-one": _bug("m / (1 - b1 ** self.t), v / (1 - b2 ** self.t)",
                                       "m / (1 - b1 ** (self.t + 1)), v / (1 - b2 ** (self.t + 1))"),
    "step-counter-incremented-after-use": _bug("self.t += 1\n            b1, b2", "b1, b2").replace(
        "p.sub_(self.lr * m_hat / (v_hat.sqrt() + self.eps))\n",
        "p.sub_(self.lr * m_hat / (v_hat.sqrt() + self.eps))\n            self.t += 1\n"),
    "betas-swapped": _bug("b1, b2 = self.betas", "b2, b1 = self.betas"),
    "gradient-not-squared": _bug("addcmul_(g, g, value=1 - b2)", "add_(g.abs(), alpha=1 - b2)"),
    "decays-params-without-grad": _bug(
        "if p.grad is None:\n                    continue\n                g = p.grad\n                p.mul_(1 - self.lr * self.wd)",
        "p.mul_(1 - self.lr * self.wd)\n                if p.grad is None:\n                    continue\n                g = p.grad"),
    "zero-grad-does-nothing": _bug("for p in self.params:\n                p.grad = None", "pass"),
    "keeps-the-generator": _bug("self.params = list(params)\n", "self.params = params\n").replace(
        "for p in self.params]", "for p in params]"),
    "rebinds-instead-of-in-place": _bug(
        "p.sub_(self.lr * m_hat / (v_hat.sqrt() + self.eps))", "p = p - self.lr * m_hat / (v_hat.sqrt() + self.eps)"),
    "skips-all-zero-gradients": _bug("if p.grad is None:", "if p.grad is None or not p.grad.any():"),
    "eps-zero-taken-as-default": _bug("(v_hat.sqrt() + self.eps)", "(v_hat.sqrt() + (self.eps or 1e-8))"),
    "weight-decay-zero-taken-as-default": _bug("p.mul_(1 - self.lr * self.wd)", "p.mul_(1 - self.lr * (self.wd or 1e-2))"),
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


def test_subclassing_torch_optim_is_forbidden(grade_source):
    verdict = grade_source(PROBLEM, """
        import torch
        class AdamW(torch.optim.AdamW):
            pass
    """)
    assert verdict.status == "forbidden", describe(verdict)


def test_reference_matches_torch_optim_on_every_case():
    spec = Catalog().spec(PROBLEM)
    for case in stored_cases(PROBLEM):
        ours = grader.run(reference(PROBLEM), "class", case, ["params"])["params"]
        theirs = grader.run(torch.optim.AdamW, "class", case, ["params"])["params"]
        torch.testing.assert_close(ours, theirs, msg=case.name)
        # and torch's own run agrees with the stored expected values within the problem's tolerance
        atol, rtol = spec.tol(str(case.outputs["params"].dtype))
        np.testing.assert_allclose(theirs.numpy(), case.outputs["params"], atol=atol, rtol=rtol, err_msg=case.name)


NEAR_MISSES = {
    "epsilon-hat": BUGS["tensorflow-epsilon-hat"],
    "no-bias-correction": BUGS["no-bias-correction"],
    "l2-penalty": BUGS["l2-penalty-instead-of-decoupled"],
    "decay-after-update": BUGS["decay-after-the-update"],
}


@pytest.mark.parametrize("variant", NEAR_MISSES)
def test_near_misses_are_named(grade_source, variant):
    assert_near_miss(grade_source(PROBLEM, NEAR_MISSES[variant]), PROBLEM, variant)
