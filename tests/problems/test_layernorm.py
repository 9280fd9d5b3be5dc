"""layernorm: values and gradients; the reference agrees with F.layer_norm."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from drillcli.harness import build_inputs
from tests.support import assert_near_miss, assert_rejected, assert_within_half_tolerance, describe, reference, stored_cases

PROBLEM = "layernorm"

CORRECT = {
    "var-unbiased-false": """
        import torch
        def layer_norm(x, weight, bias, eps=1e-5):
            mu = x.mean(-1, keepdim=True)
            var = x.var(-1, keepdim=True, unbiased=False)
            return (x - mu) / torch.sqrt(var + eps) * weight + bias
    """,
    "var-mean-and-float64": """
        import torch
        def layer_norm(x, weight, bias, eps=1e-5):
            xd = x.double()
            var, mu = torch.var_mean(xd, dim=-1, correction=0, keepdim=True)
            y = (xd - mu) * (var + eps).rsqrt()
            return (y * weight.double() + bias.double()).to(x.dtype)
    """,
    "flatten-and-loop": """
        import math, torch
        def layer_norm(x, weight, bias, eps=1e-5):
            flat = x.reshape(-1, x.shape[-1])
            rows = []
            for row in flat:
                centered = row - row.sum() / row.numel()
                var = (centered * centered).sum() / row.numel()
                rows.append(centered / torch.sqrt(var + eps))
            return torch.stack(rows).reshape(x.shape) * weight + bias
    """,
    "addcmul-style": """
        import torch
        def layer_norm(x, weight, bias, eps=1e-5):
            centered = x - x.mean(dim=-1, keepdim=True)
            inv = (centered.pow(2).mean(dim=-1, keepdim=True) + eps) ** -0.5
            return torch.addcmul(bias, centered * inv, weight)
    """,
    "keepdim-false-then-unsqueeze": """
        import torch
        def layer_norm(x, weight, bias, eps=1e-5):
            mu = x.mean(-1)
            xc = x - mu.unsqueeze(-1)
            var = (xc ** 2).mean(-1)
            return xc / torch.sqrt(var + eps).unsqueeze(-1) * weight + bias
    """,
    "std-correction-0-squared": """
        import torch
        def layer_norm(x, weight, bias, eps=1e-5):
            mu = x.mean(dim=-1, keepdim=True)
            var = torch.std(x, dim=-1, keepdim=True, correction=0) ** 2
            return weight * (x - mu) / (var + eps).sqrt() + bias
    """,
    "unbiased-var-rescaled-to-biased": """
        import torch
        def layer_norm(x, weight, bias, eps=1e-5):
            d = x.shape[-1]
            mu = x.mean(-1, keepdim=True)
            var = x.var(-1, keepdim=True) * (d - 1) / d if d > 1 else torch.zeros_like(mu)
            return (x - mu) * (var + eps).rsqrt() * weight + bias
    """,
    "float64-normalise-then-cast-before-affine": """
        import torch
        def layer_norm(x, weight, bias, eps=1e-5):
            x64 = x.to(torch.float64)
            mu = x64.mean(-1, keepdim=True)
            var = x64.sub(mu).square().mean(-1, keepdim=True)
            y = x64.sub(mu).div(var.add(eps).sqrt())
            return y.to(x.dtype) * weight + bias
    """,
    "transpose-and-normalise-columns": """
        import torch
        def layer_norm(x, weight, bias, eps=1e-5):
            cols = x.reshape(-1, x.shape[-1]).T                  # (d, N)
            mu = cols.mean(0)
            var = ((cols - mu) ** 2).mean(0)
            y = ((cols - mu) / torch.sqrt(var + eps)).T.reshape(x.shape)
            return torch.einsum("...d,d->...d", y, weight) + bias
    """,
    "var-mean-float32": """
        import torch
        def layer_norm(x, weight, bias, eps=1e-5):
            var, mean = torch.var_mean(x, dim=-1, keepdim=True, unbiased=False)
            return (x - mean) * torch.rsqrt(var + eps) * weight + bias
    """,
}

BUGS = {
    "zero-eps-means-default": """
        import torch
        def layer_norm(x, weight, bias, eps=1e-5):
            eps = eps or 1e-5
            mu = x.mean(-1, keepdim=True)
            var = x.var(-1, keepdim=True, unbiased=False)
            return (x - mu) / torch.sqrt(var + eps) * weight + bias
    """,
    "unbiased-variance": """
        import torch
        def layer_norm(x, weight, bias, eps=1e-5):
            mu = x.mean(-1, keepdim=True)
            return (x - mu) / torch.sqrt(x.var(-1, keepdim=True) + eps) * weight + bias
    """,
    "eps-outside-sqrt": """
        import torch
        def layer_norm(x, weight, bias, eps=1e-5):
            mu = x.mean(-1, keepdim=True)
            var = ((x - mu) ** 2).mean(-1, keepdim=True)
            return (x - mu) / (torch.sqrt(var) + eps) * weight + bias
    """,
    "normalise-over-batch-axis": """
        import torch
        def layer_norm(x, weight, bias, eps=1e-5):
            mu = x.mean(0, keepdim=True)
            var = ((x - mu) ** 2).mean(0, keepdim=True)
            return (x - mu) / torch.sqrt(var + eps) * weight + bias
    """,
    "one-pass-variance": """
        import torch
        def layer_norm(x, weight, bias, eps=1e-5):
            mu = x.mean(-1, keepdim=True)
            var = (x * x).mean(-1, keepdim=True) - mu * mu
            return (x - mu) / torch.sqrt(var + eps) * weight + bias
    """,
    "std-instead-of-var": """
        import torch
        def layer_norm(x, weight, bias, eps=1e-5):
            mu = x.mean(-1, keepdim=True)
            std = ((x - mu) ** 2).mean(-1, keepdim=True).sqrt()
            return (x - mu) / (std + eps) ** 0.5 * weight + bias
    """,
    "bias-and-weight-swapped": """
        import torch
        def layer_norm(x, weight, bias, eps=1e-5):
            mu = x.mean(-1, keepdim=True)
            var = ((x - mu) ** 2).mean(-1, keepdim=True)
            return (x - mu) / torch.sqrt(var + eps) * bias + weight
    """,
    "ignores-eps-argument": """
        import torch
        def layer_norm(x, weight, bias, eps=1e-5):
            mu = x.mean(-1, keepdim=True)
            var = ((x - mu) ** 2).mean(-1, keepdim=True)
            return (x - mu) / torch.sqrt(var + 1e-5) * weight + bias
    """,
    "mean-detached": """
        import torch
        def layer_norm(x, weight, bias, eps=1e-5):
            mu = x.mean(-1, keepdim=True).detach()
            var = ((x - mu) ** 2).mean(-1, keepdim=True)
            return (x - mu) / torch.sqrt(var + eps) * weight + bias
    """,
    "std-detached": """
        import torch
        def layer_norm(x, weight, bias, eps=1e-5):
            mu = x.mean(-1, keepdim=True)
            var = ((x - mu) ** 2).mean(-1, keepdim=True)
            return (x - mu) / torch.sqrt(var + eps).detach() * weight + bias
    """,
    "variance-clamped-instead-of-eps-added": """
        import torch
        def layer_norm(x, weight, bias, eps=1e-5):
            mu = x.mean(-1, keepdim=True)
            var = ((x - mu) ** 2).mean(-1, keepdim=True)
            return (x - mu) / torch.sqrt(var.clamp(min=eps)) * weight + bias
    """,
    "wrong-default-eps": """
        import torch
        def layer_norm(x, weight, bias, eps=1e-6):
            mu = x.mean(-1, keepdim=True)
            var = ((x - mu) ** 2).mean(-1, keepdim=True)
            return (x - mu) / torch.sqrt(var + eps) * weight + bias
    """,
    "weight-applied-before-normalising": """
        import torch
        def layer_norm(x, weight, bias, eps=1e-5):
            y = x * weight
            mu = y.mean(-1, keepdim=True)
            var = ((y - mu) ** 2).mean(-1, keepdim=True)
            return (y - mu) / torch.sqrt(var + eps) + bias
    """,
    "statistics-over-all-elements": """
        import torch
        def layer_norm(x, weight, bias, eps=1e-5):
            mu = x.mean()
            var = ((x - mu) ** 2).mean()
            return (x - mu) / torch.sqrt(var + eps) * weight + bias
    """,
    "eps-added-twice": """
        import torch
        def layer_norm(x, weight, bias, eps=1e-5):
            mu = x.mean(-1, keepdim=True)
            var = ((x - mu) ** 2).mean(-1, keepdim=True)
            return (x - mu) / (torch.sqrt(var + eps) + eps) * weight + bias
    """,
    "variance-not-centred": """
        import torch
        def layer_norm(x, weight, bias, eps=1e-5):
            mu = x.mean(-1, keepdim=True)
            var = (x ** 2).mean(-1, keepdim=True)
            return (x - mu) / torch.sqrt(var + eps) * weight + bias
    """,
    "reshape-puts-d-first": """
        import torch
        def layer_norm(x, weight, bias, eps=1e-5):
            flat = x.reshape(x.shape[-1], -1)
            mu = flat.mean(0, keepdim=True)
            var = ((flat - mu) ** 2).mean(0, keepdim=True)
            return ((flat - mu) / torch.sqrt(var + eps)).reshape(x.shape) * weight + bias
    """,
    "numpy-cuts-the-graph-to-x": """
        import numpy as np, torch
        def layer_norm(x, weight, bias, eps=1e-5):
            a = x.detach().numpy()
            y = (a - a.mean(-1, keepdims=True)) / np.sqrt(a.var(-1, keepdims=True) + eps)
            return torch.from_numpy(y) * weight + bias
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


def test_detached_output_is_reported(grade_source):
    verdict = grade_source(PROBLEM, """
        import torch
        def layer_norm(x, weight, bias, eps=1e-5):
            with torch.no_grad():
                mu = x.mean(-1, keepdim=True)
                var = ((x - mu) ** 2).mean(-1, keepdim=True)
                return (x - mu) / torch.sqrt(var + eps) * weight + bias
    """)
    assert verdict.status == "wrong_return"
    assert "autograd" in verdict.first_failure().message


def test_reference_matches_torch_values_and_gradients_on_every_case():
    for case in stored_cases(PROBLEM):
        # float64, as the fixtures are built: the comparison then sees formulas, not rounding
        args, _, _ = build_inputs(case)
        x, weight, bias = (t.detach().double().requires_grad_(True) for t in args[:3])
        eps = args[3] if len(args) > 3 else 1e-5
        leaves = [t.detach().clone().requires_grad_(True) for t in (x, weight, bias)]
        upstream = torch.from_numpy(case.inputs["_upstream"]).double()
        ours = reference(PROBLEM)(x, weight, bias, eps)
        ours.backward(upstream)
        theirs = F.layer_norm(leaves[0], (x.shape[-1],), leaves[1], leaves[2], eps)
        theirs.backward(upstream)
        torch.testing.assert_close(ours, theirs, msg=case.name)
        for mine, lib in zip((x, weight, bias), leaves):
            torch.testing.assert_close(mine.grad, lib.grad, msg=case.name)


# files written in another convention: each verdict names it
NEAR_MISSES = {"unbiased-variance": BUGS["unbiased-variance"], "eps-outside-sqrt": BUGS["eps-outside-sqrt"]}


@pytest.mark.parametrize("variant", NEAR_MISSES)
def test_near_misses_are_named(grade_source, variant):
    assert_near_miss(grade_source(PROBLEM, NEAR_MISSES[variant]), PROBLEM, variant)
