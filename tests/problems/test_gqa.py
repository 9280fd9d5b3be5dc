"""gqa: the reference agrees with torch, correct variants pass, realistic bugs fail."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from drillcli.harness import build_inputs
from tests.support import assert_near_miss, assert_rejected, assert_within_half_tolerance, describe, reference, stored_cases

PROBLEM = "gqa"

HEADER = """
import math, torch
import torch.nn as nn

class GroupedQueryAttention(nn.Module):
    def __init__(self, d_model, num_heads, num_kv_heads, bias=True):
        super().__init__()
        self.h, self.h_kv, self.hd = num_heads, num_kv_heads, d_model // num_heads
        self.W_q = nn.Linear(d_model, d_model, bias=bias)
        self.W_k = nn.Linear(d_model, num_kv_heads * self.hd, bias=bias)
        self.W_v = nn.Linear(d_model, num_kv_heads * self.hd, bias=bias)
        self.W_o = nn.Linear(d_model, d_model, bias=bias)
"""


def forward(split="x.shape[0], x.shape[1], {n}, self.hd", expand="t.repeat_interleave(self.h // self.h_kv, dim=1)",
            scale="math.sqrt(self.hd)", fill="mask == 0", dim="-1", merge="o.transpose(1, 2).reshape(B, L, -1)"):
    """A forward pass with one piece swapped out (the default is correct)."""
    return HEADER + f"""
    def forward(self, x, mask=None):
        B, L, _ = x.shape
        q = self.W_q(x).reshape({split.format(n="self.h")}).transpose(1, 2)
        k = self.W_k(x).reshape({split.format(n="self.h_kv")}).transpose(1, 2)
        v = self.W_v(x).reshape({split.format(n="self.h_kv")}).transpose(1, 2)
        k, v = ({expand} for t in (k, v))
        s = q @ k.transpose(-2, -1) / {scale}
        if mask is not None:
            s = s.masked_fill({fill}, float("-inf"))
        w = torch.softmax(s, dim={dim}).nan_to_num(0.0)
        o = w @ v
        return self.W_o({merge}), w
"""


CORRECT = {
    "group-axis-broadcast-no-copy": HEADER + """
    def forward(self, x, mask=None):
        B, L, _ = x.shape
        g = self.h // self.h_kv
        q = self.W_q(x).reshape(B, L, self.h_kv, g, self.hd).permute(0, 2, 3, 1, 4)   # (B, hkv, g, L, hd)
        k = self.W_k(x).reshape(B, L, self.h_kv, 1, self.hd).permute(0, 2, 3, 1, 4)   # (B, hkv, 1, L, hd)
        v = self.W_v(x).reshape(B, L, self.h_kv, 1, self.hd).permute(0, 2, 3, 1, 4)
        s = (q @ k.transpose(-2, -1)).reshape(B, self.h, L, L) / math.sqrt(self.hd)
        if mask is not None:
            s = s.masked_fill(~mask.bool(), -math.inf)
        w = s.softmax(-1)
        if mask is not None:
            w = torch.where((mask != 0).any(-1, keepdim=True), w, 0.0)
        o = (w.reshape(B, self.h_kv, g, L, L) @ v).reshape(B, self.h, L, self.hd)
        return self.W_o(o.transpose(1, 2).reshape(B, L, -1)), w
""",
    "einsum-expand-index": HEADER + """
    def forward(self, x, mask=None):
        B, L, D = x.shape
        q = self.W_q(x).reshape(B, L, self.h, self.hd)
        k = self.W_k(x).reshape(B, L, self.h_kv, self.hd)
        v = self.W_v(x).reshape(B, L, self.h_kv, self.hd)
        idx = torch.arange(self.h) // (self.h // self.h_kv)
        k, v = k[:, :, idx], v[:, :, idx]
        s = torch.einsum("bihd,bjhd->bhij", q, k) * self.hd ** -0.5
        if mask is not None:
            s = torch.where(mask != 0, s, torch.finfo(s.dtype).min)
        w = torch.softmax(s, -1)
        if mask is not None:
            w = w * (mask != 0)
        return self.W_o(torch.einsum("bhij,bjhd->bihd", w, v).reshape(B, L, D)), w
""",
    "loop-over-heads": HEADER + """
    def forward(self, x, mask=None):
        B, L, D = x.shape
        q, k, v = self.W_q(x), self.W_k(x), self.W_v(x)
        g = self.h // self.h_kv
        outs, ws = [], []
        for i in range(self.h):
            j = i // g
            qi = q[..., i * self.hd:(i + 1) * self.hd]
            kj = k[..., j * self.hd:(j + 1) * self.hd]
            vj = v[..., j * self.hd:(j + 1) * self.hd]
            s = qi @ kj.transpose(1, 2) / math.sqrt(self.hd)
            if mask is not None:
                m = torch.broadcast_to(mask != 0, (B, self.h, L, L))[:, i]
                s = s.masked_fill(~m, float("-inf"))
            w = torch.softmax(s, dim=-1).nan_to_num()
            ws.append(w)
            outs.append(w @ vj)
        return self.W_o(torch.cat(outs, dim=-1)), torch.stack(ws, dim=1)
""",
    "expand-view-float64-softmax": forward(
        expand="t[:, :, None].expand(-1, -1, self.h // self.h_kv, -1, -1).reshape(B, self.h, L, self.hd)",
        dim="-1, dtype=torch.float64).to(x.dtype").replace("o = w @ v", "o = w @ v"),
}

BUGS = {
    "repeat-instead-of-repeat-interleave": forward(expand="t.repeat(1, self.h // self.h_kv, 1, 1)"),
    "wrong-head-split-layout": forward(split="x.shape[0], {n}, x.shape[1], self.hd").replace(
        ".transpose(1, 2)\n        k", "\n        k").replace(
        "self.hd).transpose(1, 2)\n        v", "self.hd)\n        v").replace(
        "self.hd).transpose(1, 2)\n        k, v", "self.hd)\n        k, v"),
    "merge-heads-without-transpose": forward(merge="o.reshape(B, L, -1)"),
    "scale-by-d-model": forward(scale="math.sqrt(x.shape[-1])"),
    "scale-by-kv-width": forward(scale="math.sqrt(self.h_kv * self.hd)"),
    "mask-polarity-flipped": forward(fill="mask != 0"),
    "softmax-without-max-shift": forward(dim="-1").replace(
        "w = torch.softmax(s, dim=-1).nan_to_num(0.0)", "e = s.exp()\n        w = (e / e.sum(-1, keepdim=True)).nan_to_num(0.0)"),
    "fully-masked-row-gives-nan": forward().replace(".nan_to_num(0.0)", ""),
    "fully-masked-row-uniform-finfo-min": forward().replace('float("-inf"))', "torch.finfo(s.dtype).min)"),
    "softmax-over-queries": forward(dim="-2"),
}


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass_within_half_tolerance(grade_source, name):
    verdict = grade_source(PROBLEM, CORRECT[name])
    assert_within_half_tolerance(verdict)


def test_default_forward_is_correct(grade_source):
    verdict = grade_source(PROBLEM, forward())
    assert verdict.ok, describe(verdict)


@pytest.mark.parametrize("name", BUGS)
def test_bugs_fail(grade_source, name):
    verdict = grade_source(PROBLEM, BUGS[name])
    assert verdict.status == "failed", describe(verdict)
    assert_rejected(verdict)


def test_kv_projection_of_full_width_is_rejected(grade_source):
    # the MHA habit: W_k, W_v of width d_model. The state_dict cannot be loaded.
    source = forward().replace("nn.Linear(d_model, num_kv_heads * self.hd, bias=bias)",
                               "nn.Linear(d_model, d_model, bias=bias)")
    verdict = grade_source(PROBLEM, source)
    assert verdict.status == "wrong_return" and verdict.passed < verdict.total, describe(verdict)
    assert "size mismatch for W_k.weight" in verdict.first_failure().message, describe(verdict)


def test_enable_gqa_sdpa_is_forbidden(grade_source):
    source = forward().replace("s = q @ k.transpose(-2, -1)",
                               "import torch.nn.functional as F\n        F.scaled_dot_product_attention(q, k, v)\n        s = q @ k.transpose(-2, -1)")
    verdict = grade_source(PROBLEM, source)
    assert verdict.status == "forbidden", describe(verdict)


def test_reference_matches_torch_on_every_case():
    for case in stored_cases(PROBLEM):
        args, _, state = build_inputs(case)
        x, *mask = args
        mask = (mask[0] != 0) if mask else None
        module = reference(PROBLEM)(**case.init)
        if case.dtype == "float64":
            module = module.double()
        module.load_state_dict(state)
        with torch.no_grad():
            out, weights = module(*args)
        torch.testing.assert_close(out, torch.from_numpy(case.outputs["out"]).to(out.dtype), msg=case.name)
        B, L, D = x.shape
        h, hkv = case.init["num_heads"], case.init["num_kv_heads"]
        hd = D // h
        lin = lambda t, n: F.linear(t, state[f"{n}.weight"], state.get(f"{n}.bias"))  # noqa: E731
        q = lin(x, "W_q").view(B, L, h, hd).transpose(1, 2)
        k = lin(x, "W_k").view(B, L, hkv, hd).transpose(1, 2)
        v = lin(x, "W_v").view(B, L, hkv, hd).transpose(1, 2)
        # torch's own GQA: enable_gqa=True broadcasts kv head i // (h // hkv) to query head i
        o = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, enable_gqa=True)
        torch.testing.assert_close(out, lin(o.transpose(1, 2).reshape(B, L, D), "W_o"), msg=case.name)
        if hkv == h:
            # nn.MultiheadAttention with the same weights
            bias = case.init.get("bias", True)
            mha = torch.nn.MultiheadAttention(D, h, bias=bias, batch_first=True).to(x.dtype)
            mha.load_state_dict({"in_proj_weight": torch.cat([state[f"W_{n}.weight"] for n in "qkv"]),
                                 "out_proj.weight": state["W_o.weight"]}
                                | ({"in_proj_bias": torch.cat([state[f"W_{n}.bias"] for n in "qkv"]),
                                    "out_proj.bias": state["W_o.bias"]} if bias else {}))
            attn_mask = None if mask is None else ~torch.broadcast_to(mask, (B, h, L, L)).reshape(B * h, L, L)
            with torch.no_grad():
                mo, mw = mha(x, x, x, attn_mask=attn_mask, average_attn_weights=False)
            torch.testing.assert_close(out, mo, msg=case.name)
            torch.testing.assert_close(weights, mw, msg=case.name)


# files written in another convention: each verdict names it
NEAR_MISSES = {
    "repeat": BUGS["repeat-instead-of-repeat-interleave"],
    "masked-row-nan": BUGS["fully-masked-row-gives-nan"],
    "masked-row-uniform": BUGS["fully-masked-row-uniform-finfo-min"],
}


@pytest.mark.parametrize("variant", NEAR_MISSES)
def test_near_misses_are_named(grade_source, variant):
    assert_near_miss(grade_source(PROBLEM, NEAR_MISSES[variant]), PROBLEM, variant)
