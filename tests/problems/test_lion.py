"""lion: the reference equals an independent numpy transcription of the paper's update rule on
every case (torch has no Lion), correct variants pass, realistic bugs fail."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from drillcli.catalog import Catalog
from drillcli.graders import lion as grader
from tests.support import (assert_near_miss, assert_rejected, assert_within_half_tolerance, describe, mutate,
                           reference, stored_cases)

PROBLEM = "lion"

CORRECT = {
    "lucidrains-style-in-place": """
        import torch
        class Lion:
            def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0):
                self.params = [p for p in params]
                self.lr, self.betas, self.wd = lr, betas, weight_decay
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
                    exp_avg = self.state.setdefault(p, torch.zeros_like(p))
                    p.data.mul_(1 - self.lr * self.wd)
                    update = exp_avg.clone().mul_(b1).add(p.grad, alpha=1 - b1).sign_()
                    p.add_(update, alpha=-self.lr)
                    exp_avg.mul_(b2).add_(p.grad, alpha=1 - b2)
    """,
    "lerp-and-paper-formula": """
        import torch
        class Lion:
            def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0):
                self.params = list(params)
                self.lr, (self.b1, self.b2), self.wd = lr, betas, weight_decay
                self.m = [torch.zeros_like(p) for p in self.params]
            def zero_grad(self):
                for p in self.params:
                    p.grad = None
            def step(self):
                with torch.no_grad():
                    for p, m in zip(self.params, self.m):
                        if p.grad is None:
                            continue
                        update = torch.sign(m.lerp(p.grad, 1 - self.b1))
                        m.lerp_(p.grad, 1 - self.b2)
                        p.copy_(p - self.lr * (update + self.wd * p))
    """,
    "float64-state": """
        import torch
        class Lion:
            def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0):
                self.params = list(params)
                self.h = (lr, betas[0], betas[1], weight_decay)
                self.m = {id(p): torch.zeros(p.shape, dtype=torch.float64) for p in self.params}
            def zero_grad(self):
                for p in self.params:
                    p.grad = None
            @torch.no_grad()
            def step(self):
                lr, b1, b2, wd = self.h
                for p in self.params:
                    if p.grad is None:
                        continue
                    g, m = p.grad.double(), self.m[id(p)]
                    c = b1 * m + (1 - b1) * g
                    s = (c > 0).double() - (c < 0).double()
                    p.copy_(p.double() * (1 - lr * wd) - lr * s)
                    self.m[id(p)] = b2 * m + (1 - b2) * g
    """,
    "python-float-loops": """
        import torch
        class Lion:
            def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0):
                self.ps = list(params)
                self.h = (lr, betas[0], betas[1], weight_decay)
                self.m = [[0.0] * p.numel() for p in self.ps]
            def zero_grad(self):
                for p in self.ps:
                    p.grad = None
            def step(self):
                lr, b1, b2, wd = self.h
                for k, p in enumerate(self.ps):
                    if p.grad is None:
                        continue
                    xs, gs = p.detach().reshape(-1).tolist(), p.grad.reshape(-1).tolist()
                    new = []
                    for i, (x, g) in enumerate(zip(xs, gs)):
                        c = b1 * self.m[k][i] + (1 - b1) * g
                        sign = 1.0 if c > 0 else (-1.0 if c < 0 else 0.0)
                        new.append(x * (1 - lr * wd) - lr * sign)
                        self.m[k][i] = b2 * self.m[k][i] + (1 - b2) * g
                    with torch.no_grad():
                        p.copy_(torch.tensor(new, dtype=p.dtype).reshape(p.shape))
    """,
}

_BASE = """
    import torch
    class Lion:
        def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0):
            self.params = list(params)
            self.lr, self.betas, self.wd = lr, betas, weight_decay
            self.m = [torch.zeros_like(p) for p in self.params]
        def zero_grad(self):
            for p in self.params:
                p.grad = None
        @torch.no_grad()
        def step(self):
            b1, b2 = self.betas
            for p, m in zip(self.params, self.m):
                if p.grad is None:
                    continue
                g = p.grad
                c = b1 * m + (1 - b1) * g
                p.mul_(1 - self.lr * self.wd)
                p.sub_(self.lr * torch.sign(c))
                m.mul_(b2).add_(g, alpha=1 - b2)
"""


def _bug(old: str, new: str) -> str:
    return mutate(_BASE, (old, new))


BUGS = {
    "one-beta-signum": _bug("c = b1 * m + (1 - b1) * g", "m.mul_(b1).add_(g, alpha=1 - b1)\n                c = m.clone()").replace(
        "                m.mul_(b2).add_(g, alpha=1 - b2)\n", ""),
    "momentum-updated-before-interpolation": _bug(
        "c = b1 * m + (1 - b1) * g", "m.mul_(b2).add_(g, alpha=1 - b2)\n                c = b1 * m + (1 - b1) * g").replace(
        "                m.mul_(b2).add_(g, alpha=1 - b2)\n", "", 1).replace(
        "p.sub_(self.lr * torch.sign(c))\n                m.mul_(b2).add_(g, alpha=1 - b2)", "p.sub_(self.lr * torch.sign(c))"),
    "betas-swapped": _bug("b1, b2 = self.betas", "b2, b1 = self.betas"),
    "no-sign": _bug("p.sub_(self.lr * torch.sign(c))", "p.sub_(self.lr * c)"),
    "interpolation-reversed": _bug("c = b1 * m + (1 - b1) * g", "c = b1 * g + (1 - b1) * m"),
    "weight-decay-inside-the-sign": _bug(
        "c = b1 * m + (1 - b1) * g\n                p.mul_(1 - self.lr * self.wd)",
        "c = b1 * m + (1 - b1) * (g + self.wd * p)"),
    "decay-not-scaled-by-lr": _bug("p.mul_(1 - self.lr * self.wd)", "p.mul_(1 - self.wd)"),
    "sign-zero-is-one": _bug("torch.sign(c)", "torch.where(c >= 0, 1.0, -1.0)"),
    "decays-params-without-grad": _bug(
        "if p.grad is None:\n                    continue\n                g = p.grad\n                c = b1 * m + (1 - b1) * g\n                p.mul_(1 - self.lr * self.wd)",
        "p.mul_(1 - self.lr * self.wd)\n                if p.grad is None:\n                    continue\n                g = p.grad\n                c = b1 * m + (1 - b1) * g"),
    "zero-grad-does-nothing": _bug("for p in self.params:\n                p.grad = None", "pass"),
    "skips-all-zero-gradients": _bug("if p.grad is None:", "if p.grad is None or not p.grad.any():"),
    "beta1-zero-taken-as-default": _bug("b1, b2 = self.betas", "b1, b2 = self.betas\n            b1 = b1 or 0.9"),
    "beta2-zero-taken-as-default": _bug("b1, b2 = self.betas", "b1, b2 = self.betas\n            b2 = b2 or 0.99"),
}


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass(grade_source, name):
    assert_within_half_tolerance(grade_source(PROBLEM, CORRECT[name]))


@pytest.mark.parametrize("name", BUGS)
def test_bugs_fail(grade_source, name):
    verdict = grade_source(PROBLEM, BUGS[name])
    assert verdict.status == "failed", describe(verdict)
    assert_rejected(verdict)


class PaperLion:
    """Lion as written in the paper (Chen et al. 2023, Algorithm 2), transcribed in numpy float64:
        update = interp(g, m, beta1) = beta1 * m + (1 - beta1) * g
        update = sign(update) + lambda * theta
        m      = interp(g, m, beta2)
        theta  = theta - lr * update
    """

    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0):
        self.params, self.lr, self.betas, self.wd = list(params), lr, betas, weight_decay
        self.m = [np.zeros(tuple(p.shape)) for p in self.params]

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    def step(self):
        b1, b2 = self.betas
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            theta, g = p.detach().numpy().astype(np.float64), p.grad.numpy().astype(np.float64)
            update = np.sign(b1 * self.m[i] + (1 - b1) * g) + self.wd * theta
            self.m[i] = b2 * self.m[i] + (1 - b2) * g
            with torch.no_grad():
                p.copy_(torch.from_numpy(np.asarray(theta - self.lr * update)))


def test_reference_matches_the_published_rule_on_every_case():
    spec = Catalog().spec(PROBLEM)
    for case in stored_cases(PROBLEM):
        ours = grader.run(reference(PROBLEM), "class", case, ["params"])["params"]
        paper = grader.run(PaperLion, "class", case, ["params"])["params"]
        atol, rtol = spec.tol(str(case.outputs["params"].dtype))
        torch.testing.assert_close(ours, paper, atol=atol, rtol=rtol, msg=case.name)
        np.testing.assert_allclose(paper.numpy(), case.outputs["params"], atol=atol, rtol=rtol, err_msg=case.name)


NEAR_MISSES = {
    "interpolation-reversed": BUGS["interpolation-reversed"],
    "betas-swapped": BUGS["betas-swapped"],
}


@pytest.mark.parametrize("variant", NEAR_MISSES)
def test_near_misses_are_named(grade_source, variant):
    assert_near_miss(grade_source(PROBLEM, NEAR_MISSES[variant]), PROBLEM, variant)
