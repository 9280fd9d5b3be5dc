"""extras/gelu: the reference agrees with F.gelu on every stored case, gradients included;
correct alternatives must pass with a margin; realistic bugs must fail, each on at least two
cases; a file that uses an approximation where another form is asked is told which one."""

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from drillcli.fixtures import load_cases
from drillcli.harness import build_inputs
from drillcli.testing import (assert_near_miss, assert_rejected, assert_within_half_tolerance, describe,
                              grade_source, mutate, problem_at)

SPEC = problem_at(Path(__file__).resolve().parents[1] / "problems" / "gelu")

CORRECT = {
    "erf-and-tanh": """
import math
import torch
def gelu(x, approximate="none"):
    if approximate == "tanh":
        return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    return 0.5 * x * (1 + torch.erf(x / math.sqrt(2)))
""",
    "ndtr-and-sigmoid-identity": """
import math
import torch
def gelu(x, approximate="none"):
    if approximate == "none":
        return x * torch.special.ndtr(x)
    # 0.5 * (1 + tanh(u)) == sigmoid(2u)
    u = math.sqrt(2 / math.pi) * (x + 0.044715 * x * x * x)
    return x * torch.sigmoid(2 * u)
""",
    "erfc-float64-intermediates": """
import torch
SQRT_HALF = 0.7071067811865476
SQRT_2_OVER_PI = 0.7978845608028654
def gelu(x, approximate="none"):
    y = x.double()
    if approximate == "tanh":
        out = 0.5 * y * (1.0 + torch.tanh(SQRT_2_OVER_PI * (y + 0.044715 * torch.pow(y, 3))))
    else:
        out = 0.5 * y * torch.erfc(-y * SQRT_HALF)      # 1 + erf(z) == erfc(-z)
    return out.to(x.dtype)
""",
    "normal-distribution-cdf": """
import math
import torch
from torch.distributions import Normal
def gelu(x, approximate="none"):
    if approximate == "none":
        standard = Normal(torch.zeros((), dtype=x.dtype), torch.ones((), dtype=x.dtype))
        return x * standard.cdf(x)
    inner = (x + 0.044715 * x.pow(3)) * (2.0 / math.pi) ** 0.5
    return x * (inner.tanh() + 1.0) / 2.0
""",
}

BASE = CORRECT["erf-and-tanh"]
TANH = "0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))"
ERF = "0.5 * x * (1 + torch.erf(x / math.sqrt(2)))"

BUGS = {
    "tanh-form-for-none": mutate(BASE, (ERF, TANH)),
    "sigmoid-approximation": mutate(BASE, (TANH, "x * torch.sigmoid(1.702 * x)"), (ERF, "x * torch.sigmoid(1.702 * x)")),
    "silu-instead-of-gelu": mutate(BASE, (ERF, "x * torch.sigmoid(x)")),
    "erf-times-sqrt2": mutate(BASE, ("torch.erf(x / math.sqrt(2))", "torch.erf(x * math.sqrt(2))")),
    "tanh-x-squared": mutate(BASE, ("0.044715 * x ** 3", "0.044715 * x ** 2")),
    "tanh-cubic-outside-the-bracket": mutate(BASE, ("math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)",
                                                    "math.sqrt(2 / math.pi) * x + 0.044715 * x ** 3")),
    "missing-one-half": mutate(BASE, ("return 0.5 * x *", "return x *"), count=2),
    "branches-swapped": mutate(BASE, ('if approximate == "tanh":', 'if approximate == "none":')),
    "handmade-tanh-overflows": mutate(BASE, (TANH, "0.5 * x * (1 + (torch.exp(u) - torch.exp(-u)) / (torch.exp(u) + torch.exp(-u)))"),
                                      ("    if approximate", "    u = math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)\n    if approximate")),
    "output-detached": mutate(BASE, ("def gelu(x, approximate=\"none\"):\n", "def gelu(x, approximate=\"none\"):\n    x = x.detach()\n")),
    "always-float32": mutate(BASE, ("def gelu(x, approximate=\"none\"):\n", "def gelu(x, approximate=\"none\"):\n    x = x.float()\n")),
}

# files written in another convention: each verdict names it
NEAR_MISSES = {
    "tanh-for-none": BUGS["tanh-form-for-none"],
    "sigmoid-approximation": BUGS["sigmoid-approximation"],
}

FORBIDDEN = {
    "functional": "import torch.nn.functional as F\ndef gelu(x, approximate=\"none\"):\n"
                  "    return F.gelu(x, approximate=approximate)\n",
    "module": "import torch\ndef gelu(x, approximate=\"none\"):\n    return torch.nn.GELU(approximate)(x)\n",
}


@pytest.mark.parametrize("name", CORRECT)
def test_correct_alternative_passes(name):
    assert_within_half_tolerance(grade_source(SPEC, CORRECT[name]))


@pytest.mark.parametrize("name", BUGS)
def test_bug_is_rejected(name):
    assert_rejected(grade_source(SPEC, BUGS[name]))


def test_enough_alternatives_and_bugs():
    """The catalog's bar: at least 3 correct alternatives in different styles, at least 5 bugs."""
    assert len(CORRECT) >= 3 and len(BUGS) >= 5, f"{len(CORRECT)} alternatives, {len(BUGS)} bugs"


@pytest.mark.parametrize("variant", NEAR_MISSES)
def test_near_miss_is_named(variant):
    assert_near_miss(grade_source(SPEC, NEAR_MISSES[variant]), SPEC, variant)


@pytest.mark.parametrize("name", FORBIDDEN)
def test_forbidden_api_is_refused(name):
    verdict = grade_source(SPEC, FORBIDDEN[name])
    assert verdict.status == "forbidden", describe(verdict)


def _stored_cases():
    return load_cases(SPEC.source_root / "graders" / "fixtures" / f"{SPEC.local_id}.npz")


def test_reference_matches_torch_on_every_case():
    """F.gelu with the same `approximate` on every stored case, and its gradient on the
    cases that check one."""
    reference = getattr(SPEC.module("solutions"), SPEC.entry)
    for case in _stored_cases():
        args, named, _ = build_inputs(case)
        approximate = args[1] if len(args) > 1 else "none"
        ours = reference(*args)
        x = named["x"].detach().clone().requires_grad_(bool(case.grad))
        theirs = F.gelu(x, approximate=approximate)
        torch.testing.assert_close(ours, theirs, msg=lambda m: f"{case.name}: {m}")
        if case.grad:
            upstream = torch.from_numpy(np.asarray(case.inputs["_upstream"]))
            ours.backward(upstream)
            theirs.backward(upstream)
            torch.testing.assert_close(named["x"].grad, x.grad, msg=lambda m: f"{case.name} (gradient): {m}")


def test_the_prompts_examples_are_the_stored_answers():
    stored = {case.name: case.outputs["out"] for case in _stored_cases()}
    exact = [-0.004050, -0.158655, -0.154269, 0.0, 0.345731, 0.841345, 2.995950]
    tanh = [-0.003637, -0.158808, -0.154286, 0.0, 0.345714, 0.841192, 2.996363]
    for name, expected in (("readable", exact), ("readable-none-explicit", exact), ("readable-tanh", tanh)):
        np.testing.assert_allclose(stored[name], expected, atol=6e-7, err_msg=name)
    x = torch.tensor([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0], dtype=torch.float64)
    np.testing.assert_allclose((x * torch.sigmoid(1.702 * x)).numpy(),
                               [-0.018071, -0.154204, -0.149612, 0.0, 0.350388, 0.845796, 2.981929], atol=6e-7)
