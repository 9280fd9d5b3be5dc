"""rope-interleaved: the reference agrees with LLaMA's complex-number formulation, correct
variants pass, realistic bugs fail."""

from __future__ import annotations

import pytest
import torch

from drillcli.harness import build_inputs
from tests.support import assert_near_miss, assert_rejected, assert_within_half_tolerance, describe, reference, stored_cases

PROBLEM = "rope-interleaved"

CORRECT = {
    "complex-multiplication-llama": """
        import torch
        def apply_rope_interleaved(x, positions=None, base=10000.0):
            L, d = x.shape[-2:]
            real = x.dtype
            cplx = torch.complex128 if real == torch.float64 else torch.complex64
            freqs = 1.0 / (base ** (torch.arange(0, d, 2)[: d // 2].to(real) / d))
            t = torch.arange(L) if positions is None else positions
            freqs = t.to(real)[..., None] * freqs
            freqs_cis = torch.polar(torch.ones_like(freqs), freqs).to(cplx)
            x_ = torch.view_as_complex(x.reshape(*x.shape[:-1], d // 2, 2).contiguous())
            return torch.view_as_real(x_ * freqs_cis).flatten(-2).type_as(x)
    """,
    "gptj-rotate-every-two": """
        import torch
        def rotate_every_two(x):
            x1, x2 = x[..., ::2], x[..., 1::2]
            return torch.stack((-x2, x1), dim=-1).flatten(-2)
        def apply_rope_interleaved(x, positions=None, base=10000.0):
            L, d = x.shape[-2:]
            inv_freq = 1.0 / (base ** (torch.arange(0, d, 2, dtype=x.dtype) / d))
            pos = torch.arange(L, dtype=x.dtype) if positions is None else positions.to(x.dtype)
            sinusoid = torch.einsum("...i,j->...ij", pos, inv_freq)
            sin = torch.repeat_interleave(torch.sin(sinusoid), 2, dim=-1)
            cos = torch.repeat_interleave(torch.cos(sinusoid), 2, dim=-1)
            return x * cos + rotate_every_two(x) * sin
    """,
    "rotation-matrices-einsum": """
        import math, torch
        def apply_rope_interleaved(x, positions=None, base=10000.0):
            L, d = x.shape[-2:]
            pos = torch.arange(L) if positions is None else positions
            theta = torch.exp(-math.log(base) * torch.arange(d // 2, dtype=torch.float64) / (d // 2))
            ang = pos.double()[..., None] * theta
            c, s = ang.cos(), ang.sin()
            R = torch.stack((torch.stack((c, -s), -1), torch.stack((s, c), -1)), -2)   # (..., L, d/2, 2, 2)
            pairs = x.reshape(*x.shape[:-1], d // 2, 2)
            return torch.einsum("...pij,...pj->...pi", R.to(x.dtype), pairs).reshape(x.shape)
    """,
    "python-loop-over-pairs": """
        import math, torch
        def apply_rope_interleaved(x, positions=None, base=10000.0):
            L, d = x.shape[-2:]
            pos = torch.arange(L) if positions is None else positions
            cols = []
            for i in range(d // 2):
                freq = base ** (-2 * i / d)
                ang = pos.double() * freq                          # (..., L)
                c, s = ang.cos().to(x.dtype)[..., None], ang.sin().to(x.dtype)[..., None]
                a, b = x[..., 2 * i:2 * i + 1], x[..., 2 * i + 1:2 * i + 2]
                cols += [a * c - b * s, a * s + b * c]
            return torch.cat(cols, dim=-1) if cols else x.clone()
    """,
}

BUGS = {
    "half-split-layout": """
        import torch
        def apply_rope_interleaved(x, positions=None, base=10000.0):
            L, d = x.shape[-2:]
            pos = torch.arange(L) if positions is None else positions
            inv = base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
            ang = pos.double()[..., None] * inv
            cos = torch.cat((ang.cos(), ang.cos()), -1).to(x.dtype)
            sin = torch.cat((ang.sin(), ang.sin()), -1).to(x.dtype)
            x1, x2 = x[..., : d // 2], x[..., d // 2:]
            return x * cos + torch.cat((-x2, x1), -1) * sin
    """,
    "frequency-exponent-i-over-d": """
        import torch
        def apply_rope_interleaved(x, positions=None, base=10000.0):
            L, d = x.shape[-2:]
            pos = torch.arange(L) if positions is None else positions
            inv = base ** (-torch.arange(d // 2, dtype=torch.float64) / d)
            ang = pos.double()[..., None] * inv
            c, s = ang.cos().to(x.dtype), ang.sin().to(x.dtype)
            x1, x2 = x[..., 0::2], x[..., 1::2]
            return torch.stack((x1 * c - x2 * s, x1 * s + x2 * c), -1).flatten(-2)
    """,
    "rotates-backwards": """
        import torch
        def apply_rope_interleaved(x, positions=None, base=10000.0):
            L, d = x.shape[-2:]
            pos = torch.arange(L) if positions is None else positions
            inv = base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
            ang = pos.double()[..., None] * inv
            c, s = ang.cos().to(x.dtype), ang.sin().to(x.dtype)
            x1, x2 = x[..., 0::2], x[..., 1::2]
            return torch.stack((x1 * c + x2 * s, -x1 * s + x2 * c), -1).flatten(-2)
    """,
    "ignores-positions": """
        import torch
        def apply_rope_interleaved(x, positions=None, base=10000.0):
            L, d = x.shape[-2:]
            pos = torch.arange(L)
            inv = base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
            ang = pos.double()[..., None] * inv
            c, s = ang.cos().to(x.dtype), ang.sin().to(x.dtype)
            x1, x2 = x[..., 0::2], x[..., 1::2]
            return torch.stack((x1 * c - x2 * s, x1 * s + x2 * c), -1).flatten(-2)
    """,
    "pair-index-starts-at-1": """
        import torch
        def apply_rope_interleaved(x, positions=None, base=10000.0):
            L, d = x.shape[-2:]
            pos = torch.arange(L) if positions is None else positions
            inv = base ** (-torch.arange(2, d + 2, 2, dtype=torch.float64) / d)
            ang = pos.double()[..., None] * inv
            c, s = ang.cos().to(x.dtype), ang.sin().to(x.dtype)
            x1, x2 = x[..., 0::2], x[..., 1::2]
            return torch.stack((x1 * c - x2 * s, x1 * s + x2 * c), -1).flatten(-2)
    """,
    "in-place-through-aliased-views": """
        import torch
        def apply_rope_interleaved(x, positions=None, base=10000.0):
            L, d = x.shape[-2:]
            pos = torch.arange(L) if positions is None else positions
            inv = base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
            ang = pos.double()[..., None] * inv
            c, s = ang.cos().to(x.dtype), ang.sin().to(x.dtype)
            out = x.clone()
            x1, x2 = out[..., 0::2], out[..., 1::2]
            x1.copy_(x1 * c - x2 * s)      # x1 is overwritten before x2 uses it
            x2.copy_(x1 * s + x2 * c)
            return out
    """,
    "half-precision-angles": """
        import torch
        def apply_rope_interleaved(x, positions=None, base=10000.0):
            L, d = x.shape[-2:]
            pos = torch.arange(L) if positions is None else positions
            inv = base ** (-torch.arange(0, d, 2, dtype=torch.float32) / d)
            ang = (pos.to(torch.bfloat16)[..., None] * inv.to(torch.bfloat16)).float()
            c, s = ang.cos().to(x.dtype), ang.sin().to(x.dtype)
            x1, x2 = x[..., 0::2], x[..., 1::2]
            return torch.stack((x1 * c - x2 * s, x1 * s + x2 * c), -1).flatten(-2)
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


def llama_precompute_freqs_cis(dim, positions, theta, real_dtype):
    """Meta's llama/model.py precompute_freqs_cis, with explicit positions and dtype."""
    freqs = 1.0 / (theta ** (torch.arange(0, dim, 2)[: (dim // 2)].to(real_dtype) / dim))
    freqs = positions.to(real_dtype)[..., None] * freqs       # torch.outer(t, freqs), for (..., L) positions
    return torch.polar(torch.ones_like(freqs), freqs)   # complex64 / complex128


def llama_apply_rotary_emb(x, freqs_cis):
    """Meta's llama/model.py apply_rotary_emb for one tensor: pairs (2i, 2i+1) as complex numbers."""
    real = freqs_cis.real.dtype
    # the published code reshapes to (..., -1, 2); d // 2 is the same and also works for L = 0;
    # .contiguous() because view_as_complex needs a unit last stride (the cases include non-contiguous x)
    x_ = torch.view_as_complex(x.to(real).contiguous().reshape(*x.shape[:-1], x.shape[-1] // 2, 2))
    return torch.view_as_real(x_ * freqs_cis).flatten(-2).type_as(x)


def test_reference_matches_llama_complex_formulation_on_every_case():
    for case in stored_cases(PROBLEM):
        args, _, _ = build_inputs(case)
        x = args[0].detach()
        positions = args[1] if len(args) > 1 and args[1] is not None else torch.arange(x.shape[-2])
        base = args[2] if len(args) > 2 else 10000.0
        got = reference(PROBLEM)(*([x] + args[1:]))
        # the published formulation in float64 (exact to ~1e-15), compared at the dtype's precision
        freqs_cis = llama_precompute_freqs_cis(x.shape[-1], positions, base, torch.float64)
        expected = llama_apply_rotary_emb(x, freqs_cis)
        assert got.dtype == x.dtype and got.shape == x.shape, case.name
        torch.testing.assert_close(got, expected, msg=case.name)
        # the stored expected output is the same thing
        torch.testing.assert_close(torch.from_numpy(case.outputs["out"]), expected, msg=case.name)


def test_rotation_preserves_pair_norms_and_relative_angles():
    """RoPE's defining property: <rope(q, m), rope(k, n)> depends only on m - n."""
    g = torch.Generator().manual_seed(0)
    q, k = torch.randn(2, 1, 16, generator=g, dtype=torch.float64)
    rope = reference(PROBLEM)
    a = (rope(q, torch.tensor([7])) * rope(k, torch.tensor([3]))).sum()
    b = (rope(q, torch.tensor([104])) * rope(k, torch.tensor([100]))).sum()
    torch.testing.assert_close(a, b)
    r = rope(q, torch.tensor([12345]))
    torch.testing.assert_close(r.reshape(-1, 2).norm(dim=-1), q.reshape(-1, 2).norm(dim=-1))


# files written in another convention: each verdict names it
NEAR_MISSES = {"half-split": BUGS["half-split-layout"]}


@pytest.mark.parametrize("variant", NEAR_MISSES)
def test_near_misses_are_named(grade_source, variant):
    assert_near_miss(grade_source(PROBLEM, NEAR_MISSES[variant]), PROBLEM, variant)
