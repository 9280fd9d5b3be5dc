"""rmsnorm: the reference agrees with torch.nn.functional.rms_norm (values and gradients),
correct variants pass, realistic bugs fail."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from drillcli.harness import build_inputs, run_case
from tests.support import assert_near_miss, assert_rejected, assert_within_half_tolerance, describe, reference, stored_cases

PROBLEM = "rmsnorm"

CORRECT = {
    "t5-variance-rsqrt": """
        import torch
        def rms_norm(x, weight, eps=1e-6):
            variance = x.pow(2).mean(-1, keepdim=True)
            hidden = x * torch.rsqrt(variance + eps)
            return weight * hidden
    """,
    "float64-intermediates": """
        import torch
        def rms_norm(x, weight, eps=1e-6):
            x64 = x.double()
            y = x64 / torch.sqrt((x64 * x64).sum(-1, keepdim=True) / x.shape[-1] + eps)
            return (y * weight.double()).to(x.dtype)
    """,
    "vector-norm-over-sqrt-d": """
        import math, torch
        def rms_norm(x, weight, eps=1e-6):
            rms = torch.linalg.vector_norm(x, dim=-1, keepdim=True) / math.sqrt(x.shape[-1])
            return weight * x / torch.sqrt(rms ** 2 + eps)
    """,
    "einsum-and-flatten": """
        import torch
        def rms_norm(x, weight, eps=1e-6):
            flat = x.reshape(-1, x.shape[-1])
            ms = torch.einsum("nd,nd->n", flat, flat) / flat.shape[1]
            y = flat / (ms + eps).sqrt()[:, None] * weight[None, :]
            return y.reshape(x.shape)
    """,
}

BUGS = {
    "zero-eps-means-default": """
        import torch
        def rms_norm(x, weight, eps=1e-6):
            if not eps:
                eps = 1e-6
            return weight * x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)
    """,
    "eps-outside-sqrt": """
        import torch
        def rms_norm(x, weight, eps=1e-6):
            return x / (x.pow(2).mean(-1, keepdim=True).sqrt() + eps) * weight
    """,
    "subtracts-mean-like-layernorm": """
        import torch
        def rms_norm(x, weight, eps=1e-6):
            xc = x - x.mean(-1, keepdim=True)
            return xc * torch.rsqrt(xc.pow(2).mean(-1, keepdim=True) + eps) * weight
    """,
    "sum-instead-of-mean": """
        import torch
        def rms_norm(x, weight, eps=1e-6):
            return x * torch.rsqrt(x.pow(2).sum(-1, keepdim=True) + eps) * weight
    """,
    "forgets-weight": """
        import torch
        def rms_norm(x, weight, eps=1e-6):
            return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)
    """,
    "l2-normalize-times-sqrt-d": """
        import math, torch
        import torch.nn.functional as F
        def rms_norm(x, weight, eps=1e-6):
            return F.normalize(x, dim=-1) * math.sqrt(x.shape[-1]) * weight
    """,
    "unbiased-variance-instead-of-mean-square": """
        import torch
        def rms_norm(x, weight, eps=1e-6):
            return x * torch.rsqrt(x.var(-1, keepdim=True) + eps) * weight
    """,
    "statistics-detached": """
        import torch
        def rms_norm(x, weight, eps=1e-6):
            inv = torch.rsqrt(x.detach().pow(2).mean(-1, keepdim=True) + eps)
            return x * inv * weight
    """,
    "llama-float32-cast": """
        import torch
        def rms_norm(x, weight, eps=1e-6):
            xf = x.float()
            return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)).type_as(x) * weight
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


def test_reference_matches_torch_rms_norm_on_every_case():
    """Values and gradients (x, weight) equal F.rms_norm's, computed in float64 from the same inputs."""
    for case in stored_cases(PROBLEM):
        got = run_case(reference(PROBLEM), "function", case, ["out"])
        args, named, _ = build_inputs(case)
        x, weight = (a.detach().double().requires_grad_(True) for a in args[:2])
        eps = args[2] if len(args) > 2 else 1e-6
        want = F.rms_norm(x, (x.shape[-1],), weight, eps)
        want.backward(torch.from_numpy(case.inputs["_upstream"]).double())
        for name, ours, theirs in (("out", got["out"], want), ("grad_x", got["grad_x"], x.grad),
                                   ("grad_weight", got["grad_weight"], weight.grad)):
            assert ours.dtype == args[0].dtype, (case.name, name)
            torch.testing.assert_close(ours.detach().double(), theirs.detach(), msg=f"{case.name} {name}",
                                       **({"atol": 1e-5, "rtol": 1e-4} if case.dtype == "float32" else {}))
            # the stored expectation is the float64 result rounded once
            expected = case.outputs[name]
            np.testing.assert_allclose(expected, theirs.detach().numpy().astype(expected.dtype),
                                       rtol=1e-6 if case.dtype == "float32" else 1e-12,
                                       atol=1e-30, err_msg=f"{case.name} {name}")


@pytest.mark.parametrize("source", [
    "import torch.nn.functional as F\ndef rms_norm(x, weight, eps=1e-6):\n    return F.rms_norm(x, (x.shape[-1],), weight, eps)\n",
    "import torch\ndef rms_norm(x, weight, eps=1e-6):\n    m = torch.nn.RMSNorm(x.shape[-1], eps=eps)\n    return m(x)\n",
])
def test_library_rms_norm_is_forbidden(grade_source, source):
    verdict = grade_source(PROBLEM, source)
    assert verdict.status == "forbidden", describe(verdict)


# files written in another convention: each verdict names it
NEAR_MISSES = {"eps-outside-sqrt": BUGS["eps-outside-sqrt"]}


@pytest.mark.parametrize("variant", NEAR_MISSES)
def test_near_misses_are_named(grade_source, variant):
    assert_near_miss(grade_source(PROBLEM, NEAR_MISSES[variant]), PROBLEM, variant)
