"""rope: the reference equals the Hugging Face / GPT-NeoX rotate_half formulation."""

from __future__ import annotations

import pytest
import torch

from drillcli.harness import build_inputs
from tests.support import assert_near_miss, assert_rejected, assert_within_half_tolerance, describe, reference, stored_cases

PROBLEM = "rope"

CORRECT = {
    "hf-rotate-half-float32-angles": """
        import torch
        def rotate_half(x):
            x1, x2 = x.chunk(2, dim=-1)
            return torch.cat((-x2, x1), dim=-1)
        def apply_rope(x, positions=None, base=10000.0):
            L, d = x.shape[-2], x.shape[-1]
            if positions is None:
                positions = torch.arange(L)
            # angles in x's own dtype: float32 for float32 inputs, as Hugging Face computes them
            inv_freq = 1.0 / (base ** (torch.arange(0, d, 2, dtype=torch.int64).to(x.dtype) / d))
            freqs = positions.to(x.dtype)[..., None] * inv_freq
            emb = torch.cat((freqs, freqs), dim=-1)
            return (x * emb.cos().to(x.dtype)) + (rotate_half(x) * emb.sin().to(x.dtype))
    """,
    "complex-multiplication": """
        import torch
        def apply_rope(x, positions=None, base=10000.0):
            L, d = x.shape[-2:]
            pos = torch.arange(L) if positions is None else positions
            theta = pos.double()[..., None] * base ** (-2 * torch.arange(d // 2, dtype=torch.float64) / d)
            rot = torch.polar(torch.ones_like(theta), theta)
            z = torch.complex(x[..., : d // 2].double(), x[..., d // 2 :].double()) * rot
            return torch.cat([z.real, z.imag], dim=-1).to(x.dtype)
    """,
    "loop-over-pairs": """
        import math, torch
        def apply_rope(x, positions=None, base=10000.0):
            L, d = x.shape[-2], x.shape[-1]
            pos = torch.arange(L) if positions is None else positions
            pos = torch.broadcast_to(pos, x.shape[:-1]).double()
            out = x.clone()
            half = d // 2
            for i in range(half):
                theta = pos * math.pow(base, -2 * i / d)
                c, s = torch.cos(theta).to(x.dtype), torch.sin(theta).to(x.dtype)
                a, b = x[..., i], x[..., i + half]
                out[..., i] = a * c - b * s
                out[..., i + half] = a * s + b * c
            return out
    """,
    "exp-log-frequencies-in-input-dtype": """
        import math, torch
        def apply_rope(x, positions=None, base=10000.0):
            L, d = x.shape[-2], x.shape[-1]
            if positions is None:
                positions = torch.arange(L, device=x.device)
            ct = torch.float64 if x.dtype == torch.float64 else torch.float32
            inv_freq = torch.exp(torch.arange(0, d, 2, dtype=ct) * (-math.log(base) / d))
            ang = positions.to(ct).unsqueeze(-1) * inv_freq
            cos = torch.cat([ang.cos(), ang.cos()], -1).to(x.dtype)
            sin = torch.cat([ang.sin(), ang.sin()], -1).to(x.dtype)
            x1, x2 = x.chunk(2, -1)
            return x * cos + torch.cat([-x2, x1], -1) * sin
    """,
    "numpy-float64": """
        import numpy as np, torch
        def apply_rope(x, positions=None, base=10000.0):
            X = x.detach().numpy().astype(np.float64)
            L, d = X.shape[-2:]
            p = np.arange(L) if positions is None else positions.numpy()
            th = p[..., None].astype(np.float64) * np.power(float(base), -np.arange(d // 2) * 2.0 / d)
            a, b = X[..., : d // 2], X[..., d // 2 :]
            out = np.concatenate([a * np.cos(th) - b * np.sin(th), a * np.sin(th) + b * np.cos(th)], axis=-1)
            return torch.from_numpy(out).to(x.dtype)
    """,
    "2x2-rotation-matrices": """
        import torch
        def apply_rope(x, positions=None, base=10000.0):
            L, d = x.shape[-2:]
            h = d // 2
            pos = torch.arange(L) if positions is None else positions
            theta = pos.double().unsqueeze(-1) * (base ** (-torch.arange(h, dtype=torch.float64) * 2 / d))
            c, s = theta.cos(), theta.sin()
            R = torch.stack([torch.stack([c, -s], -1), torch.stack([s, c], -1)], -2)   # (..., L, h, 2, 2)
            pairs = torch.stack([x[..., :h], x[..., h:]], -1).double()                 # (..., L, h, 2)
            rot = (R @ pairs.unsqueeze(-1)).squeeze(-1)
            return torch.cat([rot[..., 0], rot[..., 1]], -1).to(x.dtype)
    """,
    "in-place-on-a-clone-outer-product": """
        import torch
        def apply_rope(x, positions=None, base=10000.0):
            *_, L, d = x.shape
            if positions is None:
                positions = torch.arange(L)
            freqs = 1.0 / torch.pow(torch.tensor(base, dtype=torch.float64),
                                    torch.arange(0, d, 2, dtype=torch.float64) / d)
            ang = torch.outer(positions.reshape(-1).double(), freqs).reshape(*positions.shape, d // 2)
            cos, sin = ang.cos().to(x.dtype), ang.sin().to(x.dtype)
            out = x.clone()
            x1, x2 = x[..., : d // 2], x[..., d // 2 :]
            out[..., : d // 2].mul_(cos).sub_(x2 * sin)
            out[..., d // 2 :].mul_(cos).add_(x1 * sin)
            return out
    """,
    "view-as-complex-in-input-dtype": """
        import torch
        def apply_rope(x, positions=None, base=10000.0):
            L, d = x.shape[-2:]
            h = d // 2
            pos = torch.arange(L) if positions is None else positions
            ct = torch.float64 if x.dtype == torch.float64 else torch.float32
            ang = pos.to(ct)[..., None] * (1.0 / (base ** (torch.arange(0, d, 2).to(ct) / d)))
            z = torch.view_as_complex(torch.stack([x[..., :h], x[..., h:]], -1).to(ct).contiguous())
            r = torch.view_as_real(z * torch.polar(torch.ones_like(ang), ang))
            return torch.cat([r[..., 0], r[..., 1]], -1).to(x.dtype)
    """,
}

_TEMPLATE = """
    import torch
    def apply_rope(x, positions=None, base=10000.0):
        *_, L, d = x.shape
        if positions is None:
            positions = POSITIONS
        inv_freq = base ** (-torch.arange(0, d, 2, dtype=torch.float64) / EXPONENT_DIV)
        angles = positions.to(torch.float64)[..., None] * inv_freq
        cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
        x1, x2 = FIRST, SECOND
        return COMBINE
"""
_FIELDS = {"POSITIONS": "torch.arange(L)", "EXPONENT_DIV": "d", "FIRST": "x[..., : d // 2]",
           "SECOND": "x[..., d // 2 :]", "COMBINE": "torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)"}


def _bug(**changes: str) -> str:
    source = _TEMPLATE
    for key, value in {**_FIELDS, **changes}.items():
        source = source.replace(key, value)
    return source


BUGS = {
    "interleaved-layout": _bug(FIRST="x[..., 0::2]", SECOND="x[..., 1::2]",
                               COMBINE="torch.stack([x1 * cos - x2 * sin, x1 * sin + x2 * cos], -1).flatten(-2)"),
    "exponent-i-over-d": _bug(EXPONENT_DIV="(2 * d)"),
    "positions-start-at-1": _bug(POSITIONS="torch.arange(1, L + 1)"),
    "rotation-sign-flipped": _bug(COMBINE="torch.cat([x1 * cos + x2 * sin, -x1 * sin + x2 * cos], dim=-1)"),
    "halves-swapped-in-output": _bug(COMBINE="torch.cat([x1 * sin + x2 * cos, x1 * cos - x2 * sin], dim=-1)"),
    "ignores-positions": """
        import torch
        def apply_rope(x, positions=None, base=10000.0):
            *_, L, d = x.shape
            positions = torch.arange(L)
            inv_freq = base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
            angles = positions.to(torch.float64)[..., None] * inv_freq
            cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
            x1, x2 = x[..., : d // 2], x[..., d // 2 :]
            return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)
    """,
    "rotate-half-without-negation": _bug(COMBINE="torch.cat([x1 * cos + x2 * sin, x1 * sin + x2 * cos], dim=-1)"),
    "sin-and-cos-swapped": _bug(COMBINE="torch.cat([x1 * sin - x2 * cos, x1 * cos + x2 * sin], dim=-1)"),
    "frequencies-reversed": _bug().replace("torch.arange(0, d, 2, dtype=torch.float64)",
                                           "torch.arange(d - 2, -1, -2, dtype=torch.float64)"),
    "exponent-over-d-minus-2": _bug(EXPONENT_DIV="max(d - 2, 2)"),
    "hard-coded-base": _bug().replace("inv_freq = base **", "inv_freq = 10000.0 **"),
    "float32-angles-for-float64-input": _bug().replace("torch.float64", "torch.float32"),
    "positions-shifted-to-start-at-0": _bug().replace(
        "        inv_freq =", "        positions = positions - positions.min()\n        inv_freq =", 1),
    "per-batch-positions-use-row-0": _bug().replace(
        "        inv_freq =", "        positions = positions.reshape(-1, positions.shape[-1])[0]\n        inv_freq =", 1),
    "cos-sin-tables-interleaved-with-rotate-half": """
        import torch
        def apply_rope(x, positions=None, base=10000.0):
            *_, L, d = x.shape
            if positions is None:
                positions = torch.arange(L)
            inv_freq = base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
            emb = (positions.double()[..., None] * inv_freq).repeat_interleave(2, dim=-1)
            rotated = torch.cat([-x[..., d // 2 :], x[..., : d // 2]], dim=-1)
            return x * emb.cos().to(x.dtype) + rotated * emb.sin().to(x.dtype)
    """,
    "halves-overwritten-in-place": """
        import torch
        def apply_rope(x, positions=None, base=10000.0):
            *_, L, d = x.shape
            if positions is None:
                positions = torch.arange(L)
            angles = positions.double()[..., None] * base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
            cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
            out = x.clone()
            x1, x2 = out[..., : d // 2], out[..., d // 2 :]    # views of out, not copies
            out[..., : d // 2] = x1 * cos - x2 * sin
            out[..., d // 2 :] = x1 * sin + x2 * cos            # x1 was already overwritten
            return out
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


def test_float64_output_for_float32_input_fails_on_dtype(grade_source):
    verdict = grade_source(PROBLEM, _bug(COMBINE="torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], -1).double()"))
    assert verdict.first_failure().kind == "dtype"


def _neox_rope(x, positions, base):
    """The GPT-NeoX / Hugging Face formulation: cos/sin tables of width d, rotate_half."""
    d = x.shape[-1]
    inv_freq = 1.0 / (base ** (torch.arange(0, d, 2, dtype=torch.float64) / d))
    freqs = positions.double()[..., None] * inv_freq
    emb = torch.cat((freqs, freqs), dim=-1)
    rotated = torch.cat((-x[..., d // 2 :], x[..., : d // 2]), dim=-1)
    return x * emb.cos() + rotated * emb.sin()


def test_reference_matches_neox_formulation_on_every_case():
    for case in stored_cases(PROBLEM):
        args, _, _ = build_inputs(case)
        x = args[0].double()
        positions = args[1] if len(args) > 1 and args[1] is not None else torch.arange(x.shape[-2])
        base = args[2] if len(args) > 2 else 10000.0
        ours = reference(PROBLEM)(*([x] + args[1:]))
        torch.testing.assert_close(ours, _neox_rope(x, positions, base), msg=case.name)
        assert reference(PROBLEM)(*args).dtype == args[0].dtype


# files written in another convention: each verdict names it
NEAR_MISSES = {"interleaved": BUGS["interleaved-layout"]}


@pytest.mark.parametrize("variant", NEAR_MISSES)
def test_near_misses_are_named(grade_source, variant):
    assert_near_miss(grade_source(PROBLEM, NEAR_MISSES[variant]), PROBLEM, variant)
