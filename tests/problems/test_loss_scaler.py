"""loss-scaler: the reference follows torch.amp.GradScaler step for step on every case;
correct variants pass, realistic bugs fail."""

from __future__ import annotations

import warnings

import pytest
import torch

from drillcli.graders.loss_scaler import run
from drillcli.harness import to_user
from tests.support import assert_rejected, assert_within_half_tolerance, describe, reference, stored_cases

PROBLEM = "loss-scaler"
NAMES = ["scaled_losses", "taken", "scales", "grads"]

CORRECT = {
    "tensor-state-like-gradscaler": """
        import torch
        class DynamicLossScaler:
            def __init__(self, init_scale=2.0**16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000):
                self.scale = torch.tensor(init_scale, dtype=torch.float64)
                self.growth, self.backoff, self.interval = growth_factor, backoff_factor, growth_interval
                self.tracker = torch.tensor(0)
            def scale_loss(self, loss):
                return loss * self.scale.to(loss.dtype)
            def step(self, grads):
                found = torch.stack([~torch.isfinite(g).all() for g in grads]).any()
                if found:
                    self.scale = self.scale * self.backoff
                    self.tracker.zero_()
                    return False
                inv = (1.0 / self.scale).item()
                for g in grads:
                    g.mul_(inv)
                self.tracker += 1
                if int(self.tracker) == self.interval:
                    self.scale = self.scale * self.growth
                    self.tracker.zero_()
                return True
    """,
    "divide-in-place": """
        import math
        class DynamicLossScaler:
            def __init__(self, init_scale=65536.0, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000):
                self.scale = init_scale
                self._g, self._b, self._n = growth_factor, backoff_factor, growth_interval
                self._ok = 0
            def scale_loss(self, loss):
                return self.scale * loss
            def step(self, grads):
                if not all(bool(g.isfinite().all()) for g in grads):
                    self._ok = 0
                    self.scale = self.scale * self._b
                    return False
                for g in grads:
                    g.div_(self.scale)
                self._ok += 1
                if self._ok >= self._n:
                    self._ok = 0
                    self.scale = self.scale * self._g
                return True
    """,
    "modulo-counter": """
        import torch
        class DynamicLossScaler:
            def __init__(self, init_scale=2.0**16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000):
                self.scale = float(init_scale)
                self.gf, self.bf, self.gi = growth_factor, backoff_factor, growth_interval
                self.since_overflow = 0
            def scale_loss(self, loss):
                return loss * self.scale
            def step(self, grads):
                bad = False
                for g in grads:
                    bad = bad or bool(torch.isnan(g).any() or torch.isinf(g).any())
                if bad:
                    self.since_overflow = 0
                    self.scale *= self.bf
                    return False
                torch._foreach_mul_(grads, 1.0 / self.scale)
                self.since_overflow += 1
                if self.since_overflow % self.gi == 0:
                    self.scale *= self.gf
                return True
    """,
}

_HEAD = """
import torch
class DynamicLossScaler:
    def __init__(self, init_scale=2.0**16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000):
        self.scale = float(init_scale)
        self.gf, self.bf, self.gi = growth_factor, backoff_factor, growth_interval
        self.good = 0
    def scale_loss(self, loss):
        return loss * self.scale
"""

_GOOD = """
        for g in grads:
            g.mul_(1.0 / self.scale)
        self.good += 1
        if self.good == self.gi:
            self.scale *= self.gf
            self.good = 0
        return True
"""

BUGS = {
    "counter-not-reset-on-overflow": _HEAD + """
    def step(self, grads):
        if any(not torch.isfinite(g).all() for g in grads):
            self.scale *= self.bf
            return False
""" + _GOOD,
    "isinf-misses-nan": _HEAD + """
    def step(self, grads):
        if any(torch.isinf(g).any() for g in grads):
            self.scale *= self.bf
            self.good = 0
            return False
""" + _GOOD,
    "grows-one-step-late": _HEAD + """
    def step(self, grads):
        if any(not torch.isfinite(g).all() for g in grads):
            self.scale *= self.bf
            self.good = 0
            return False
        for g in grads:
            g.mul_(1.0 / self.scale)
        self.good += 1
        if self.good > self.gi:
            self.scale *= self.gf
            self.good = 0
        return True
""",
    "forgets-to-unscale": _HEAD + """
    def step(self, grads):
        if any(not torch.isfinite(g).all() for g in grads):
            self.scale *= self.bf
            self.good = 0
            return False
        self.good += 1
        if self.good == self.gi:
            self.scale *= self.gf
            self.good = 0
        return True
""",
    "unscales-with-the-updated-scale": _HEAD + """
    def step(self, grads):
        if any(not torch.isfinite(g).all() for g in grads):
            self.scale *= self.bf
            self.good = 0
            return False
        self.good += 1
        if self.good == self.gi:
            self.scale *= self.gf
            self.good = 0
        for g in grads:
            g.mul_(1.0 / self.scale)
        return True
""",
    "steps-despite-overflow": _HEAD + """
    def step(self, grads):
        if any(not torch.isfinite(g).all() for g in grads):
            self.scale *= self.bf
            self.good = 0
            for g in grads:
                g.mul_(1.0 / self.scale)
            return True
""" + _GOOD,
    "counter-not-reset-after-growth": _HEAD + """
    def step(self, grads):
        if any(not torch.isfinite(g).all() for g in grads):
            self.scale *= self.bf
            self.good = 0
            return False
        for g in grads:
            g.mul_(1.0 / self.scale)
        self.good += 1
        if self.good >= self.gi:
            self.scale *= self.gf
        return True
""",
    "always-halves": _HEAD + """
    def step(self, grads):
        if any(not torch.isfinite(g).all() for g in grads):
            self.scale *= 0.5
            self.good = 0
            return False
""" + _GOOD.replace("self.scale *= self.gf", "self.scale *= 2.0"),
}


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass_within_half_tolerance(grade_source, name):
    assert_within_half_tolerance(grade_source(PROBLEM, CORRECT[name]))


@pytest.mark.parametrize("name", BUGS)
def test_bugs_fail(grade_source, name):
    verdict = grade_source(PROBLEM, BUGS[name])
    assert verdict.status == "failed", describe(verdict)
    assert_rejected(verdict)


def test_the_earliest_differing_step_is_reported(grade_source):
    verdict = grade_source(PROBLEM, BUGS["steps-despite-overflow"])
    case = {c.name: c for c in verdict.cases}["readable-inf-then-growth"]
    assert case.message.startswith("step 1 is the first that differs: taken at step 1"), describe(verdict)


class _CountingSGD(torch.optim.SGD):
    def __init__(self, params):
        super().__init__(params, lr=0.0)
        self.calls = 0

    def step(self, closure=None):
        self.calls += 1
        return super().step(closure)


def _gradscaler_run(case):
    """The same training loop as the grader's, with torch.amp.GradScaler doing the scaling."""
    true = [to_user(case, k) for k in sorted(k for k in case.inputs if k.startswith("g") and k[1:].isdigit())]
    params = [torch.nn.Parameter(torch.zeros(g.shape[1:])) for g in true]
    opt = _CountingSGD(params)
    scaler = torch.amp.GradScaler("cpu", **case.init)
    poison, losses = to_user(case, "_poison"), to_user(case, "_loss")
    rec = {n: [] for n in NAMES}
    for s in range(losses.shape[0]):
        rec["scaled_losses"].append(float(scaler.scale(losses[s].clone())))
        scale = scaler.get_scale()
        for p, g in zip(params, true):
            p.grad = (g[s] * scale).half().float() if case.inputs["_fp16"] else g[s] * scale
        which, what = int(poison[s, 0]), int(poison[s, 1])
        if what:
            params[which].grad.view(-1)[0] = (float("inf"), float("-inf"), float("nan"))[what - 1]
        before = opt.calls
        scaler.step(opt)
        scaler.update()
        taken = opt.calls > before
        rec["taken"].append(int(taken))
        rec["scales"].append(scaler.get_scale())
        flat = torch.cat([p.grad.reshape(-1) for p in params])
        rec["grads"].append(flat if taken else torch.zeros_like(flat))
    return rec


def test_reference_follows_gradscaler_on_every_case():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for case in stored_cases(PROBLEM):
            ours = run(reference(PROBLEM), "class", case, NAMES)
            lib = _gradscaler_run(case)
            assert ours["taken"].tolist() == lib["taken"], case.name
            torch.testing.assert_close(ours["scales"], torch.tensor(lib["scales"], dtype=torch.float64),
                                       rtol=1e-6, atol=0, msg=case.name)
            torch.testing.assert_close(ours["scaled_losses"], torch.tensor(lib["scaled_losses"], dtype=torch.float64),
                                       rtol=1e-6, atol=1e-12, msg=case.name)
            torch.testing.assert_close(ours["grads"], torch.stack(lib["grads"]), rtol=1e-5, atol=1e-6, msg=case.name)
