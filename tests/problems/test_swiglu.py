"""swiglu: the reference agrees with nn.Linear + F.silu (and the F.glu identity) on the same
weights; correct variants pass, realistic bugs fail."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from drillcli.harness import build_inputs
from drillcli.solutions.swiglu import SwiGLU
from tests.support import assert_near_miss, assert_rejected, assert_within_half_tolerance, describe, stored_cases

PROBLEM = "swiglu"

HEADER = "import math\nimport torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"
INIT = """
class SwiGLU(nn.Module):
    def __init__(self, d_model, d_ff):
        super().__init__()
        self.w1 = nn.Linear(d_model, d_ff, bias=False)
        self.w3 = nn.Linear(d_model, d_ff, bias=False)
        self.w2 = nn.Linear(d_ff, d_model, bias=False)
"""


def module(forward: str, init: str = INIT) -> str:
    return HEADER + init + forward


CORRECT = {
    "sigmoid-by-hand": module("""
    def forward(self, x):
        a = self.w1(x)
        return self.w2(a * torch.sigmoid(a) * self.w3(x))
"""),
    "einsum-on-weights": module("""
    def forward(self, x):
        gate = torch.einsum("...d,fd->...f", x, self.w1.weight)
        up = torch.einsum("...d,fd->...f", x, self.w3.weight)
        return torch.einsum("...f,df->...d", F.silu(gate) * up, self.w2.weight)
"""),
    "flatten-float64-intermediates": module("""
    def forward(self, x):
        shape, dt = x.shape, x.dtype
        x2 = x.reshape(-1, shape[-1]).double()                       # (N, d_model)
        gate = x2 @ self.w1.weight.double().T                        # (N, d_ff)
        up = x2 @ self.w3.weight.double().T
        h = gate / (1 + torch.exp(-gate)) * up                       # silu = a / (1 + e^-a)
        return (h @ self.w2.weight.double().T).to(dt).reshape(shape)
"""),
    "stable-exp-form": module("""
    def forward(self, x):
        a = self.w1(x)
        # sigmoid through exp of a non-positive number only
        e = torch.exp(-a.abs())
        sig = torch.where(a >= 0, 1 / (1 + e), e / (1 + e))
        return self.w2((a * sig) * self.w3(x))
"""),
}

BUGS = {
    "gate-and-up-swapped": module("""
    def forward(self, x):
        return self.w2(self.w1(x) * F.silu(self.w3(x)))
"""),
    "sigmoid-instead-of-silu": module("""
    def forward(self, x):
        return self.w2(torch.sigmoid(self.w1(x)) * self.w3(x))
"""),
    "gelu-instead-of-silu": module("""
    def forward(self, x):
        return self.w2(F.gelu(self.w1(x)) * self.w3(x))
"""),
    "sum-instead-of-product": module("""
    def forward(self, x):
        return self.w2(F.silu(self.w1(x)) + self.w3(x))
"""),
    "silu-after-product": module("""
    def forward(self, x):
        return self.w2(F.silu(self.w1(x) * self.w3(x)))
"""),
    "exp-over-one-plus-exp-overflows": module("""
    def forward(self, x):
        a = self.w1(x)
        return self.w2(a * torch.exp(a) / (1 + torch.exp(a)) * self.w3(x))
"""),
    "silu-on-output-too": module("""
    def forward(self, x):
        return F.silu(self.w2(F.silu(self.w1(x)) * self.w3(x)))
"""),
}


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass_within_half_tolerance(grade_source, name):
    verdict = grade_source(PROBLEM, CORRECT[name])
    assert_within_half_tolerance(verdict)


@pytest.mark.parametrize("name", BUGS)
def test_bugs_fail(grade_source, name):
    verdict = grade_source(PROBLEM, BUGS[name])
    assert verdict.status == "failed", describe(verdict)
    assert_rejected(verdict)


def test_linear_layers_with_bias_are_refused_by_state_dict(grade_source):
    verdict = grade_source(PROBLEM, module("""
    def forward(self, x):
        return self.w2(F.silu(self.w1(x)) * self.w3(x))
""", INIT.replace("bias=False", "bias=True")))
    assert not verdict.ok
    assert "unexpected parameters" in (verdict.first_failure().message or ""), describe(verdict)


def test_forbidden_glu_is_refused(grade_source):
    verdict = grade_source(PROBLEM, module("""
    def forward(self, x):
        g, u = self.w1(x), self.w3(x)
        return self.w2(F.glu(torch.cat([g * u, g], dim=-1), dim=-1))
"""))
    assert verdict.status == "forbidden", describe(verdict)


def test_reference_matches_torch_on_every_case():
    cases = stored_cases(PROBLEM)
    assert len(cases) >= 20
    for case in cases:
        args, _, state = build_inputs(case)
        x = args[0]
        ours = SwiGLU(**case.init).to(x.dtype)
        ours.load_state_dict(state)
        d_model, d_ff = case.init["d_model"], case.init["d_ff"]
        w1, w2, w3 = (nn.Linear(i, o, bias=False).to(x.dtype) for i, o in ((d_model, d_ff), (d_ff, d_model), (d_model, d_ff)))
        for lin, key in ((w1, "w1.weight"), (w2, "w2.weight"), (w3, "w3.weight")):
            lin.weight.data.copy_(state[key])
        lib = w2(F.silu(w1(x)) * w3(x))
        torch.testing.assert_close(ours(x), lib, msg=case.name)
        # silu(g) * u == glu([g * u, g]) (GLU gates its first half with the sigmoid of its second)
        g, u = w1(x), w3(x)
        if torch.isfinite(g * u).all():
            torch.testing.assert_close(ours(x), w2(F.glu(torch.cat([g * u, g], dim=-1), dim=-1)), msg=case.name)
        expected = torch.from_numpy(case.outputs["out"])
        # the stored values (float32 cases: computed in float64, rounded once) within the spec's tolerance
        torch.testing.assert_close(lib.detach().to(expected.dtype), expected, msg=case.name, atol=1e-5, rtol=1e-4)


NEAR_MISSES = {
    "silu-on-up": BUGS["gate-and-up-swapped"],
}


@pytest.mark.parametrize("variant", NEAR_MISSES)
def test_near_misses_are_named(grade_source, variant):
    assert_near_miss(grade_source(PROBLEM, NEAR_MISSES[variant]), PROBLEM, variant)
