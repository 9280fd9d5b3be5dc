"""sgd-momentum: the reference equals torch.optim.SGD on every case, correct variants pass, realistic bugs fail."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from drillcli.catalog import Catalog
from drillcli.graders import sgd_momentum as grader
from tests.support import (assert_near_miss, assert_rejected, assert_within_half_tolerance, describe, mutate,
                           reference, stored_cases)

PROBLEM = "sgd-momentum"

CORRECT = {
    "torch-style-state-dict": """
        import torch
        class SGD:
            def __init__(self, params, lr=1e-3, momentum=0.0, weight_decay=0.0, nesterov=False):
                self.params = [p for p in params]
                self.lr, self.mu, self.wd, self.nesterov = lr, momentum, weight_decay, nesterov
                self.state = {}
            def zero_grad(self):
                for p in self.params:
                    if p.grad is not None:
                        p.grad.zero_()
            @torch.no_grad()
            def step(self):
                for p in self.params:
                    if p.grad is None:
                        continue
                    d_p = p.grad if self.wd == 0 else p.grad.add(p, alpha=self.wd)
                    if self.mu != 0:
                        buf = self.state.get(p)
                        if buf is None:
                            buf = self.state[p] = torch.clone(d_p).detach()
                        else:
                            buf.mul_(self.mu).add_(d_p, alpha=1.0)
                        d_p = d_p.add(buf, alpha=self.mu) if self.nesterov else buf
                    p.add_(d_p, alpha=-self.lr)
    """,
    "lr-inside-velocity": """
        import torch
        class SGD:
            def __init__(self, params, lr=1e-3, momentum=0.0, weight_decay=0.0, nesterov=False):
                self.params = list(params)
                self.lr, self.mu, self.wd, self.nesterov = lr, momentum, weight_decay, nesterov
                self.v = [torch.zeros_like(p) for p in self.params]
            def zero_grad(self):
                for p in self.params:
                    p.grad = None
            def step(self):
                with torch.no_grad():
                    for p, v in zip(self.params, self.v):
                        if p.grad is None:
                            continue
                        g = p.grad + self.wd * p
                        v.mul_(self.mu).add_(self.lr * g)          # v = mu v + lr g  (= lr * buf)
                        if self.nesterov:
                            p.sub_(self.lr * g + self.mu * v)
                        else:
                            p.sub_(v)
    """,
    "zero-initialised-buffer-float64": """
        import torch
        class SGD:
            def __init__(self, params, lr=1e-3, momentum=0.0, weight_decay=0.0, nesterov=False):
                self.params = list(params)
                self.h = (lr, momentum, weight_decay, nesterov)
                self.buf = {id(p): torch.zeros(p.shape, dtype=torch.float64) for p in self.params}
            def zero_grad(self):
                for p in self.params:
                    p.grad = None
            @torch.no_grad()
            def step(self):
                lr, mu, wd, nesterov = self.h
                for p in self.params:
                    if p.grad is None:
                        continue
                    theta = p.double()
                    g = p.grad.double() + wd * theta
                    b = self.buf[id(p)] = mu * self.buf[id(p)] + g
                    direction = g + mu * b if nesterov else b
                    p.copy_(theta - lr * direction)
    """,
    "python-float-loops": """
        import torch
        class SGD:
            def __init__(self, params, lr=1e-3, momentum=0.0, weight_decay=0.0, nesterov=False):
                self.ps = list(params)
                self.h = (lr, momentum, weight_decay, nesterov)
                self.buf = [None] * len(self.ps)
            def zero_grad(self):
                for p in self.ps:
                    p.grad = None
            def step(self):
                lr, mu, wd, nesterov = self.h
                for k, p in enumerate(self.ps):
                    if p.grad is None:
                        continue
                    xs, gs = p.detach().reshape(-1).tolist(), p.grad.reshape(-1).tolist()
                    gs = [g + wd * x for x, g in zip(xs, gs)]
                    if mu:
                        self.buf[k] = list(gs) if self.buf[k] is None else [mu * b + g for b, g in zip(self.buf[k], gs)]
                        gs = [g + mu * b for g, b in zip(gs, self.buf[k])] if nesterov else self.buf[k]
                    new = [x - lr * g for x, g in zip(xs, gs)]
                    with torch.no_grad():
                        p.copy_(torch.tensor(new, dtype=p.dtype).reshape(p.shape))
    """,
}

_BASE = """
    import torch
    class SGD:
        def __init__(self, params, lr=1e-3, momentum=0.0, weight_decay=0.0, nesterov=False):
            self.params = list(params)
            self.lr, self.mu, self.wd, self.nesterov = lr, momentum, weight_decay, nesterov
            self.buf = [torch.zeros_like(p) for p in self.params]
        def zero_grad(self):
            for p in self.params:
                p.grad = None
        @torch.no_grad()
        def step(self):
            for p, buf in zip(self.params, self.buf):
                if p.grad is None:
                    continue
                g = p.grad + self.wd * p
                buf.mul_(self.mu).add_(g)
                d = g + self.mu * buf if self.nesterov else buf
                p.sub_(self.lr * d)
"""


def _bug(old: str, new: str) -> str:
    return mutate(_BASE, (old, new))


BUGS = {
    "ema-momentum-dampened": _bug("buf.mul_(self.mu).add_(g)", "buf.mul_(self.mu).add_((1 - self.mu) * g)"),
    "decoupled-weight-decay": _bug("g = p.grad + self.wd * p", "p.mul_(1 - self.lr * self.wd)\n                g = p.grad"),
    "weight-decay-after-momentum": _bug(
        "g = p.grad + self.wd * p", "g = p.grad").replace(
        "d = g + self.mu * buf if self.nesterov else buf", "d = (g + self.mu * buf if self.nesterov else buf) + self.wd * p"),
    "nesterov-ignored": _bug("d = g + self.mu * buf if self.nesterov else buf", "d = buf"),
    "nesterov-with-old-buffer": _bug(
        "buf.mul_(self.mu).add_(g)\n                d = g + self.mu * buf if self.nesterov else buf",
        "d = g + self.mu * buf if self.nesterov else None\n                buf.mul_(self.mu).add_(g)\n                d = buf if d is None else d"),
    "nesterov-sign-flipped": _bug("d = g + self.mu * buf if", "d = g - self.mu * buf if"),
    "step-with-buffer-before-update": _bug(
        "buf.mul_(self.mu).add_(g)\n                d = g + self.mu * buf if self.nesterov else buf\n                p.sub_(self.lr * d)",
        "p.sub_(self.lr * (g + self.mu * buf if self.nesterov else buf))\n                buf.mul_(self.mu).add_(g)"),
    "momentum-ignored": _bug("buf.mul_(self.mu).add_(g)", "buf.copy_(g)"),
    "weight-decay-sign-flipped": _bug("g = p.grad + self.wd * p", "g = p.grad - self.wd * p"),
    "zero-grad-does-nothing": _bug("for p in self.params:\n                p.grad = None", "pass"),
    "skips-all-zero-gradients": _bug("if p.grad is None:", "if p.grad is None or not p.grad.any():"),
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
        import torch
        SGD = torch.optim.SGD
    """)
    assert verdict.status == "forbidden", describe(verdict)


def test_reference_matches_torch_optim_on_every_case():
    spec = Catalog().spec(PROBLEM)
    for case in stored_cases(PROBLEM):
        ours = grader.run(reference(PROBLEM), "class", case, ["params"])["params"]
        theirs = grader.run(torch.optim.SGD, "class", case, ["params"])["params"]   # dampening=0
        torch.testing.assert_close(ours, theirs, msg=case.name)
        atol, rtol = spec.tol(str(case.outputs["params"].dtype))
        np.testing.assert_allclose(theirs.numpy(), case.outputs["params"], atol=atol, rtol=rtol, err_msg=case.name)


NEAR_MISSES = {
    "ema-momentum": BUGS["ema-momentum-dampened"],
}


@pytest.mark.parametrize("variant", NEAR_MISSES)
def test_near_misses_are_named(grade_source, variant):
    assert_near_miss(grade_source(PROBLEM, NEAR_MISSES[variant]), PROBLEM, variant)
