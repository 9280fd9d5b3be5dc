"""sliding-window-attention: the reference agrees with torch, correct variants pass, realistic bugs fail."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from drillcli.harness import build_inputs
from tests.support import assert_near_miss, assert_rejected, assert_within_half_tolerance, describe, reference, stored_cases

PROBLEM = "sliding-window-attention"


def masked(visible, after="", fill="~visible"):
    """Masked attention with the given (L, L) visibility expression (i, j: query, key indices)."""
    return f"""
import math, torch
def sliding_window_attention(q, k, v, window):
    L = q.shape[-2]
    i = torch.arange(L)[:, None]
    j = torch.arange(L)[None, :]
    ones = torch.ones(L, L, dtype=torch.bool)
    visible = {visible}
    s = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    s = s.masked_fill({fill}, float("-inf"))
    w = torch.softmax(s, dim=-1){after}
    return w @ v, w
"""


CORRECT = {
    "tril-minus-tril": masked("torch.tril(ones) & ~torch.tril(ones, diagonal=-window)"),
    "triu-of-tril": masked("torch.triu(torch.tril(ones), diagonal=-(window - 1))"),
    "loop-over-queries": """
import math, torch
def sliding_window_attention(q, k, v, window):
    L = q.shape[-2]
    w = torch.zeros(*q.shape[:-1], L, dtype=q.dtype)
    outs = []
    for i in range(L):
        lo = max(0, i - window + 1)
        s = (k[..., lo:i + 1, :] @ q[..., i, :, None]).squeeze(-1) / math.sqrt(q.shape[-1])
        p = torch.softmax(s, dim=-1)
        w[..., i, lo:i + 1] = p
        outs.append((p.unsqueeze(-2) @ v[..., lo:i + 1, :]).squeeze(-2))
    return torch.stack(outs, dim=-2), w
""",
    "einsum-where-float64-softmax": """
import torch
def sliding_window_attention(q, k, v, window):
    L = q.shape[-2]
    idx = torch.arange(L)
    dist = idx.view(-1, 1) - idx.view(1, -1)
    keep = (dist >= 0) & (dist <= window - 1)
    s = torch.einsum("...id,...jd->...ij", q, k) * q.shape[-1] ** -0.5
    s = torch.where(keep, s, torch.finfo(s.dtype).min)
    w = torch.softmax(s.double(), dim=-1).to(q.dtype) * keep
    return torch.einsum("...ij,...je->...ie", w, v), w
""",
    "manual-stable-softmax-float64-scores": """
import torch
def sliding_window_attention(q, k, v, window):
    L = q.shape[-2]
    i = torch.arange(L)
    keep = (i[:, None] >= i[None, :]) & (i[:, None] - i[None, :] < window)
    s = (q.double() @ k.double().mT) / q.shape[-1] ** 0.5
    s = s.masked_fill(~keep, -torch.inf)
    e = (s - s.amax(-1, keepdim=True)).exp()
    w = (e / e.sum(-1, keepdim=True)).to(q.dtype)
    return w @ v, w
""",
}

BUGS = {
    "window-off-by-one-w-plus-1-keys": masked("(i - j >= 0) & (i - j <= window)"),
    "window-off-by-one-w-minus-1-keys": masked("(i - j >= 0) & (i - j < window - 1) | (i == j)"),
    "symmetric-band-not-causal": masked("(i - j).abs() < window"),
    "causal-only-window-ignored": masked("torch.tril(ones)"),
    "first-window-tokens-instead-of-last": masked("(j <= i) & (j < window)"),
    "mask-polarity-flipped": masked("(i - j >= 0) & (i - j < window)", fill="visible",
                                    after="\n    w = torch.nan_to_num(w)"),
    "window-applied-after-softmax": masked("(i - j >= 0) & (i - j < window)", fill="~torch.tril(ones)",
                                           after=" * visible"),
    "softmax-without-max-shift": masked("(i - j >= 0) & (i - j < window)").replace(
        "w = torch.softmax(s, dim=-1)", "e = s.exp()\n    w = e / e.sum(-1, keepdim=True)"),
    "no-scale": masked("(i - j >= 0) & (i - j < window)").replace(" / math.sqrt(q.shape[-1])", ""),
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


def test_reference_matches_torch_on_every_case():
    for case in stored_cases(PROBLEM):
        args, _, _ = build_inputs(case)
        q, k, v, window = args
        q, k, v = (t.detach() for t in (q, k, v))
        out, weights = reference(PROBLEM)(q, k, v, window)
        L = q.shape[-2]
        band = torch.ones(L, L, dtype=torch.bool).tril() & ~torch.ones(L, L, dtype=torch.bool).tril(-window)
        torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=band), msg=case.name)
        torch.testing.assert_close(out, torch.from_numpy(case.outputs["out"]).to(out.dtype), msg=case.name)
        assert (weights[..., ~band] == 0).all(), case.name
        if window >= L:
            torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, is_causal=True), msg=case.name)
        d, dv = q.shape[-1], v.shape[-1]
        if d == dv:
            # nn.MultiheadAttention with identity projections is plain one-head attention
            mha = torch.nn.MultiheadAttention(d, 1, bias=False, batch_first=True).to(q.dtype)
            eye = torch.eye(d, dtype=q.dtype)
            mha.load_state_dict({"in_proj_weight": torch.cat([eye, eye, eye]), "out_proj.weight": eye})
            qb, kb, vb = (t.reshape(-1, L, d) for t in (q, k, v))
            with torch.no_grad():
                mo, mw = mha(qb, kb, vb, attn_mask=~band)
            torch.testing.assert_close(out.reshape(-1, L, d), mo, msg=case.name)
            torch.testing.assert_close(weights.reshape(-1, L, L), mw, msg=case.name)


# files written in another convention: each verdict names it
NEAR_MISSES = {"window-plus-current": BUGS["window-off-by-one-w-plus-1-keys"], "symmetric": BUGS["symmetric-band-not-causal"]}


@pytest.mark.parametrize("variant", NEAR_MISSES)
def test_near_misses_are_named(grade_source, variant):
    assert_near_miss(grade_source(PROBLEM, NEAR_MISSES[variant]), PROBLEM, variant)
