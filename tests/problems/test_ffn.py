"""ffn: gelu and FeedForward; the reference agrees with F.gelu / nn.GELU and an nn.Sequential
built from the same weights; correct variants pass, realistic bugs fail."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from drillcli.harness import build_inputs
from drillcli.solutions.ffn import FeedForward, gelu
from tests.support import assert_near_miss, assert_rejected, assert_within_half_tolerance, describe, stored_cases

PROBLEM = "ffn"

# A FeedForward that is right; bugs below replace gelu or the module.
GOOD_FFN = """
class FeedForward(nn.Module):
    def __init__(self, d_model, d_ff, approximate="none"):
        super().__init__()
        self.fc1 = nn.Linear(d_model, d_ff)
        self.fc2 = nn.Linear(d_ff, d_model)
        self.approximate = approximate

    def forward(self, x):
        return self.fc2(gelu(self.fc1(x), self.approximate))
"""
GOOD_GELU = """
def gelu(x, approximate="none"):
    if approximate == "tanh":
        return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    return 0.5 * x * (1 + torch.erf(x / math.sqrt(2)))
"""
HEADER = "import math\nimport torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"

CORRECT = {
    "ndtr-and-sigmoid-identity": HEADER + """
def gelu(x, approximate="none"):
    if approximate == "tanh":
        # 0.5 * (1 + tanh(u)) == sigmoid(2u)
        u = math.sqrt(2 / math.pi) * (x + 0.044715 * x * x * x)
        return x * torch.sigmoid(2 * u)
    return x * torch.special.ndtr(x)
""" + GOOD_FFN,
    "erfc-and-functional-linear": HEADER + """
def gelu(x, approximate="none"):
    if approximate == "none":
        return 0.5 * x * torch.erfc(-x * (0.5 ** 0.5))
    inner = 0.7978845608028654 * (x + 0.044715 * torch.pow(x, 3))
    return 0.5 * x * (1.0 + inner.tanh())

class FeedForward(nn.Module):
    def __init__(self, d_model, d_ff, approximate="none"):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(d_model, d_ff), nn.Linear(d_ff, d_model)
        self.act = approximate

    def forward(self, x):
        h = F.linear(x, self.fc1.weight, self.fc1.bias)
        return F.linear(gelu(h, approximate=self.act), self.fc2.weight, self.fc2.bias)
""",
    "float64-intermediates-einsum": HEADER + """
def gelu(x, approximate="none"):
    dt = x.dtype
    y = x.double()
    if approximate == "tanh":
        out = 0.5 * y * (1 + torch.tanh((2 / math.pi) ** 0.5 * (y + 0.044715 * y ** 3)))
    else:
        out = y * 0.5 * (1.0 + torch.erf(y * 0.7071067811865476))
    return out.to(dt)

class FeedForward(nn.Module):
    def __init__(self, d_model, d_ff, approximate="none"):
        super().__init__()
        self.fc1 = nn.Linear(d_model, d_ff)
        self.fc2 = nn.Linear(d_ff, d_model)
        self.approximate = approximate

    def forward(self, x):
        h = torch.einsum("...i,hi->...h", x, self.fc1.weight) + self.fc1.bias
        h = gelu(h, self.approximate)
        return torch.einsum("...h,oh->...o", h, self.fc2.weight) + self.fc2.bias
""",
    "flatten-matmul": HEADER + GOOD_GELU + """
class FeedForward(nn.Module):
    def __init__(self, d_model, d_ff, approximate="none"):
        super().__init__()
        self.fc1 = nn.Linear(d_model, d_ff)
        self.fc2 = nn.Linear(d_ff, d_model)
        self.approximate = approximate

    def forward(self, x):
        shape = x.shape
        x2 = x.reshape(-1, shape[-1])                       # (N, d_model)
        h = x2 @ self.fc1.weight.T + self.fc1.bias          # (N, d_ff)
        y = gelu(h, self.approximate) @ self.fc2.weight.T + self.fc2.bias
        return y.reshape(shape)
""",
}

BUGS = {
    "tanh-x-squared": HEADER + """
def gelu(x, approximate="none"):
    if approximate == "tanh":
        return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 2)))
    return 0.5 * x * (1 + torch.erf(x / math.sqrt(2)))
""" + GOOD_FFN,
    "erf-times-sqrt2": HEADER + """
def gelu(x, approximate="none"):
    if approximate == "tanh":
        return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    return 0.5 * x * (1 + torch.erf(x * math.sqrt(2)))
""" + GOOD_FFN,
    "missing-half": HEADER + """
def gelu(x, approximate="none"):
    if approximate == "tanh":
        return x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    return x * (1 + torch.erf(x / math.sqrt(2)))
""" + GOOD_FFN,
    "sigmoid-1702-approximation": HEADER + """
def gelu(x, approximate="none"):
    return x * torch.sigmoid(1.702 * x)
""" + GOOD_FFN,
    "tanh-always": HEADER + """
def gelu(x, approximate="none"):
    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
""" + GOOD_FFN,
    "handmade-tanh-overflows": HEADER + """
def gelu(x, approximate="none"):
    if approximate == "tanh":
        u = math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)
        t = (torch.exp(u) - torch.exp(-u)) / (torch.exp(u) + torch.exp(-u))
        return 0.5 * x * (1 + t)
    return 0.5 * x * (1 + torch.erf(x / math.sqrt(2)))
""" + GOOD_FFN,
    "ffn-ignores-approximate": HEADER + GOOD_GELU + """
class FeedForward(nn.Module):
    def __init__(self, d_model, d_ff, approximate="none"):
        super().__init__()
        self.fc1 = nn.Linear(d_model, d_ff)
        self.fc2 = nn.Linear(d_ff, d_model)

    def forward(self, x):
        return self.fc2(gelu(self.fc1(x)))
""",
    "dropout-left-in-training-mode": HEADER + GOOD_GELU + """
class FeedForward(nn.Module):
    def __init__(self, d_model, d_ff, approximate="none", dropout=0.1):
        super().__init__()
        self.fc1 = nn.Linear(d_model, d_ff)
        self.fc2 = nn.Linear(d_ff, d_model)
        self.dropout = nn.Dropout(dropout)
        self.approximate = approximate

    def forward(self, x):
        return self.dropout(self.fc2(self.dropout(gelu(self.fc1(x), self.approximate))))
""",
    "activation-after-fc2-too": HEADER + GOOD_GELU + """
class FeedForward(nn.Module):
    def __init__(self, d_model, d_ff, approximate="none"):
        super().__init__()
        self.fc1 = nn.Linear(d_model, d_ff)
        self.fc2 = nn.Linear(d_ff, d_model)
        self.approximate = approximate

    def forward(self, x):
        return gelu(self.fc2(gelu(self.fc1(x), self.approximate)), self.approximate)
""",
    "weights-used-untransposed": HEADER + GOOD_GELU + """
class FeedForward(nn.Module):
    def __init__(self, d_model, d_ff, approximate="none"):
        super().__init__()
        self.fc1 = nn.Linear(d_model, d_ff)
        self.fc2 = nn.Linear(d_ff, d_model)
        self.approximate = approximate

    def forward(self, x):
        # x @ W + b with W (out, in): only runs when shapes happen to line up
        h = x @ self.fc1.weight.reshape(self.fc1.in_features, -1) + self.fc1.bias
        y = gelu(h, self.approximate) @ self.fc2.weight.reshape(self.fc2.in_features, -1)
        return y + self.fc2.bias
""",
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


@pytest.mark.parametrize("call", ["F.gelu(x, approximate=approximate)", "nn.GELU(approximate)(x)",
                                  "torch._C._nn.gelu(x, approximate=approximate)",
                                  "getattr(F, 'ge' + 'lu')(x, approximate=approximate)"])
def test_library_gelu_is_refused(grade_source, call):
    verdict = grade_source(PROBLEM, HEADER + f"""
def gelu(x, approximate="none"):
    return {call}
""" + GOOD_FFN)
    assert verdict.status == "forbidden", describe(verdict)


def test_missing_gelu_function_is_reported(grade_source):
    verdict = grade_source(PROBLEM, HEADER + """
def _g(x, approximate="none"):
    return 0.5 * x * (1 + torch.erf(x / math.sqrt(2)))
""" + GOOD_FFN.replace("gelu(", "_g("))
    assert not verdict.ok
    assert any("must also define the function gelu" in (c.message or "") for c in verdict.cases), describe(verdict)


def test_reference_matches_torch_on_every_case():
    cases = stored_cases(PROBLEM)
    assert len(cases) >= 20 and sum(c.inputs.get("_fn") == "gelu" for c in cases) >= 10
    for case in cases:
        args, named, state = build_inputs(case)
        if case.inputs.get("_fn") == "gelu":
            x, approximate = args[0], (args[1] if len(args) > 1 else "none")
            got, expected = gelu(x, approximate), F.gelu(x, approximate=approximate)
            torch.testing.assert_close(got, expected, msg=case.name, atol=1e-6, rtol=1e-5)
            if case.grad:
                up = torch.from_numpy(case.inputs["_upstream"])
                g1, = torch.autograd.grad(gelu(x, approximate), x, up)
                g2, = torch.autograd.grad(F.gelu(x, approximate=approximate), x, up)
                torch.testing.assert_close(g1, g2, msg=case.name)
            continue
        ours = FeedForward(**case.init).to(args[0].dtype)   # as the harness does for float64 cases
        ours.load_state_dict(state)
        d_model, d_ff = case.init["d_model"], case.init["d_ff"]
        lib = nn.Sequential(nn.Linear(d_model, d_ff), nn.GELU(approximate=case.init.get("approximate", "none")),
                            nn.Linear(d_ff, d_model)).to(args[0].dtype)
        lib.load_state_dict({"0.weight": state["fc1.weight"], "0.bias": state["fc1.bias"],
                             "2.weight": state["fc2.weight"], "2.bias": state["fc2.bias"]})
        x = args[0]
        torch.testing.assert_close(ours(x), lib(x), msg=case.name)
        # the stored expected values (float32 cases: computed in float64) agree with the library too
        expected = torch.from_numpy(case.outputs["out"])
        torch.testing.assert_close(lib(x).detach().to(expected.dtype), expected, msg=case.name, atol=2e-5, rtol=1e-4)


NEAR_MISSES = {
    "tanh-everywhere": BUGS["tanh-always"],
}


@pytest.mark.parametrize("variant", NEAR_MISSES)
def test_near_misses_are_named(grade_source, variant):
    assert_near_miss(grade_source(PROBLEM, NEAR_MISSES[variant]), PROBLEM, variant)
