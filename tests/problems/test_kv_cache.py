"""kv-cache: the reference's chunked decoding equals torch's full causal attention, correct
variants pass, realistic bugs fail."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from drillcli.harness import build_inputs
from tests.support import assert_rejected, assert_within_half_tolerance, describe, stored_cases

PROBLEM = "kv-cache"

HEADER = """
import math, torch
import torch.nn as nn

class CachedSelfAttention(nn.Module):
    def __init__(self, d_model, num_heads):
        super().__init__()
        self.h, self.hd = num_heads, d_model // num_heads
        self.W_q = nn.Linear(d_model, d_model)
        self.W_k = nn.Linear(d_model, d_model)
        self.W_v = nn.Linear(d_model, d_model)
        self.W_o = nn.Linear(d_model, d_model)
"""


def forward(concat="torch.cat([cache[0], k], dim=2), torch.cat([cache[1], v], dim=2)",
            visible="torch.ones(T, P + T, dtype=torch.bool).tril(diagonal=P)",
            scale="math.sqrt(self.hd)", ret="(k, v)"):
    """A forward pass with one piece swapped out (the default is correct)."""
    return HEADER + f"""
    def forward(self, x, cache=None):
        B, T, D = x.shape
        split = lambda t: t.reshape(B, T, self.h, self.hd).transpose(1, 2)
        q, k_new, v_new = split(self.W_q(x)), split(self.W_k(x)), split(self.W_v(x))
        k, v = k_new, v_new
        if cache is not None:
            k, v = {concat}
        P = k.shape[2] - T
        s = q @ k.transpose(-2, -1) / {scale}
        visible = {visible}
        if visible is not None:
            s = s.masked_fill(~visible, float("-inf"))
        o = (torch.softmax(s, dim=-1) @ v).transpose(1, 2).reshape(B, T, D)
        return self.W_o(o), {ret}
"""


CORRECT = {
    "absolute-positions-mask": forward(
        visible="torch.arange(P + T)[None, :] <= (P + torch.arange(T))[:, None]"),
    "token-by-token-inside": HEADER + """
    def forward(self, x, cache=None):
        B, T, D = x.shape
        outs = []
        for t in range(T):
            xt = x[:, t:t + 1]
            q, k, v = (lin(xt).reshape(B, 1, self.h, self.hd).transpose(1, 2) for lin in (self.W_q, self.W_k, self.W_v))
            if cache is not None:
                k, v = torch.cat([cache[0], k], 2), torch.cat([cache[1], v], 2)
            cache = (k, v)
            w = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(self.hd), dim=-1)
            outs.append((w @ v).transpose(1, 2).reshape(B, 1, D))
        return self.W_o(torch.cat(outs, 1)), cache
""",
    "einsum-float64-softmax-bhtd-layout": HEADER + """
    def forward(self, x, cache=None):
        B, T, D = x.shape
        q = self.W_q(x).reshape(B, T, self.h, self.hd)
        k = self.W_k(x).reshape(B, T, self.h, self.hd).permute(0, 2, 1, 3)
        v = self.W_v(x).reshape(B, T, self.h, self.hd).permute(0, 2, 1, 3)
        if cache is not None:
            k = torch.cat((cache[0], k), dim=-2)
            v = torch.cat((cache[1], v), dim=-2)
        S = k.shape[-2]
        s = torch.einsum("bthd,bhsd->bhts", q, k) / math.sqrt(self.hd)
        future = torch.triu(torch.ones(T, S, dtype=torch.bool), diagonal=S - T + 1)
        w = s.masked_fill(future, -math.inf).softmax(-1, dtype=torch.float64).to(x.dtype)
        return self.W_o(torch.einsum("bhts,bhsd->bthd", w, v).reshape(B, T, D)), (k, v)
""",
    "single-step-skips-mask-bmm": HEADER + """
    def forward(self, x, cache=None):
        B, T, D = x.shape
        q, k, v = (lin(x).reshape(B, T, self.h, self.hd).transpose(1, 2) for lin in (self.W_q, self.W_k, self.W_v))
        if cache is not None:
            k, v = torch.cat([cache[0], k], 2), torch.cat([cache[1], v], 2)
        S = k.shape[2]
        s = torch.bmm(q.reshape(B * self.h, T, self.hd), k.reshape(B * self.h, S, self.hd).transpose(1, 2))
        s = s / math.sqrt(self.hd)
        if T > 1:
            s = s + torch.full((T, S), float("-inf")).triu(S - T + 1)
        o = torch.bmm(s.softmax(-1), v.reshape(B * self.h, S, self.hd)).reshape(B, self.h, T, self.hd)
        return self.W_o(o.transpose(1, 2).reshape(B, T, D)), (k, v)
""",
}

BUGS = {
    "no-causal-mask": forward(visible="None"),
    "mask-not-offset-by-cache": forward(visible="torch.ones(T, P + T, dtype=torch.bool).tril()"),
    "mask-off-by-one-excludes-self": forward(visible="torch.ones(T, P + T, dtype=torch.bool).tril(diagonal=P - 1) "
                                                     "| (torch.arange(P + T) == 0)"),
    "cache-concatenated-new-first": forward(concat="torch.cat([k, cache[0]], dim=2), torch.cat([v, cache[1]], dim=2)"),
    "returns-only-new-keys": forward(ret="(k_new, v_new)"),
    "scale-by-d-model": forward(scale="math.sqrt(D)"),
    "softmax-without-max-shift": forward().replace(
        "o = (torch.softmax(s, dim=-1) @ v)", "e = s.exp()\n        o = (e / e.sum(-1, keepdim=True) @ v)"),
}

STATEFUL = forward(concat="torch.cat([self.k, k], dim=2), torch.cat([self.v, v], dim=2)").replace(
        "        P = k.shape[2] - T\n", "        self.k, self.v = k, v\n        P = k.shape[2] - T\n")


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


def test_stateful_cache_fails_only_the_state_cases(grade_source):
    # keeping the cache on self: right for one sequence, wrong (or a shape error) when the
    # grader decodes two sequences interleaved or branches from a prefix
    verdict = grade_source(PROBLEM, STATEFUL)
    assert verdict.status in ("failed", "wrong_return"), describe(verdict)
    failed = {c.name for c in verdict.cases if not c.passed}
    assert failed == {"two-streams-interleaved", "branch-from-prefix", "branch-float64"}, describe(verdict)


def test_wrong_return_shape_is_reported(grade_source):
    verdict = grade_source(PROBLEM, forward(ret="k, v"))  # a 3-tuple (out, k, v) instead of (out, (k, v))
    assert verdict.status == "wrong_return", describe(verdict)


def _full_causal(x, state, heads):
    """torch's causal multi-head attention over the whole sequence: (out, k, v)."""
    B, L, D = x.shape
    hd = D // heads
    lin = lambda t, n: F.linear(t, state[f"{n}.weight"], state[f"{n}.bias"])  # noqa: E731
    q, k, v = (lin(x, n).view(B, L, heads, hd).transpose(1, 2) for n in ("W_q", "W_k", "W_v"))
    o = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(B, L, D)
    out = lin(o, "W_o")
    mha = torch.nn.MultiheadAttention(D, heads, batch_first=True).to(x.dtype)
    mha.load_state_dict({"in_proj_weight": torch.cat([state[f"W_{n}.weight"] for n in "qkv"]),
                         "in_proj_bias": torch.cat([state[f"W_{n}.bias"] for n in "qkv"]),
                         "out_proj.weight": state["W_o.weight"], "out_proj.bias": state["W_o.bias"]})
    with torch.no_grad():
        mo, _ = mha(x, x, x, attn_mask=~torch.ones(L, L, dtype=torch.bool).tril(), need_weights=False)
    torch.testing.assert_close(out, mo)
    return out, k, v


def test_reference_decoding_matches_full_causal_forward_on_every_case():
    for case in stored_cases(PROBLEM):
        args, named, state = build_inputs(case)
        x = args[0]
        heads, chunks, mode = case.init["num_heads"], case.inputs["_chunks"], case.inputs["_mode"]
        got = {n: torch.from_numpy(case.outputs[n]) for n in ("out", "k_cache", "v_cache")}
        if mode == "branch":
            P = chunks[0]
            out1, _, _ = _full_causal(x, state, heads)
            xb = torch.cat([x[:, :P], named["_alt"]], dim=1)
            out2, k, v = _full_causal(xb, state, heads)
            expected = torch.cat([out1, out2[:, P:]], dim=1)
        else:
            expected, k, v = _full_causal(x, state, heads)
        msg = f"{case.name} ({mode}, chunks {chunks})"
        torch.testing.assert_close(got["out"], expected, msg=msg)
        torch.testing.assert_close(got["k_cache"], k, msg=msg)
        torch.testing.assert_close(got["v_cache"], v, msg=msg)
