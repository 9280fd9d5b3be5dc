"""multihead-attention: the reference equals nn.MultiheadAttention with the same weights."""

from __future__ import annotations

import pytest
import torch

from drillcli.harness import build_inputs
from tests.support import assert_near_miss, assert_rejected, assert_within_half_tolerance, describe, reference, stored_cases

PROBLEM = "multihead-attention"

_INIT = """
import math, torch
import torch.nn as nn
import torch.nn.functional as F

class MultiHeadAttention(nn.Module):
    def __init__(self, d_model, num_heads):
        super().__init__()
        self.h, self.d_k = num_heads, d_model // num_heads
        self.W_q, self.W_k = nn.Linear(d_model, d_model), nn.Linear(d_model, d_model)
        self.W_v, self.W_o = nn.Linear(d_model, d_model), nn.Linear(d_model, d_model)
"""

CORRECT = {
    "einsum-heads": _INIT + """
    def forward(self, q, k, v, mask=None):
        B, Lq, D = q.shape
        Q = self.W_q(q).reshape(B, Lq, self.h, self.d_k)
        K = self.W_k(k).reshape(B, k.shape[1], self.h, self.d_k)
        V = self.W_v(v).reshape(B, v.shape[1], self.h, self.d_k)
        s = torch.einsum("bqhd,bkhd->bhqk", Q, K) / math.sqrt(self.d_k)
        if mask is not None:
            s = s.masked_fill(~mask.bool(), float("-inf"))
        w = s.softmax(-1)
        o = torch.einsum("bhqk,bkhd->bqhd", w, V).reshape(B, Lq, D)
        return self.W_o(o), w
""",
    "loop-over-heads": _INIT + """
    def forward(self, q, k, v, mask=None):
        Q, K, V = self.W_q(q), self.W_k(k), self.W_v(v)
        B, Lq, _ = q.shape
        full = None if mask is None else torch.broadcast_to(mask != 0, (B, self.h, Lq, k.shape[1]))
        outs, ws = [], []
        for i in range(self.h):
            sl = slice(i * self.d_k, (i + 1) * self.d_k)
            s = Q[..., sl] @ K[..., sl].transpose(1, 2) * self.d_k ** -0.5
            if full is not None:
                s = s.masked_fill(~full[:, i], -torch.inf)
            w = torch.softmax(s, -1)
            outs.append(w @ V[..., sl])
            ws.append(w)
        return self.W_o(torch.cat(outs, -1)), torch.stack(ws, 1)
""",
    "fused-qkv-projection": _INIT + """
    def forward(self, q, k, v, mask=None):
        w_in = torch.cat([self.W_q.weight, self.W_k.weight, self.W_v.weight])
        b_in = torch.cat([self.W_q.bias, self.W_k.bias, self.W_v.bias])
        D = q.shape[-1]
        Q = F.linear(q, w_in[:D], b_in[:D])
        K = F.linear(k, w_in[D:2 * D], b_in[D:2 * D])
        V = F.linear(v, w_in[2 * D:], b_in[2 * D:])
        B, Lq, Lk = q.shape[0], q.shape[1], k.shape[1]
        Q = Q.view(B, Lq, self.h, self.d_k).permute(0, 2, 1, 3)
        K = K.view(B, Lk, self.h, self.d_k).permute(0, 2, 3, 1)       # (B, h, d_k, Lk)
        V = V.view(B, Lk, self.h, self.d_k).permute(0, 2, 1, 3)
        s = torch.matmul(Q / math.sqrt(self.d_k), K)
        if mask is not None:
            s = torch.where(mask != 0, s, torch.finfo(s.dtype).min)
        w = torch.softmax(s, dim=-1)
        o = torch.matmul(w, V).permute(0, 2, 1, 3).flatten(2)
        return F.linear(o, self.W_o.weight, self.W_o.bias), w
""",
    "baddbmm-heads-folded-into-batch": _INIT + """
    def forward(self, q, k, v, mask=None):
        B, Lq, D = q.shape
        Lk, h, dk = k.shape[1], self.h, self.d_k
        Q = self.W_q(q).view(B, Lq, h, dk).transpose(1, 2).reshape(B * h, Lq, dk)
        K = self.W_k(k).view(B, Lk, h, dk).transpose(1, 2).reshape(B * h, Lk, dk)
        V = self.W_v(v).view(B, Lk, h, dk).transpose(1, 2).reshape(B * h, Lk, dk)
        bias = torch.zeros(B, h, Lq, Lk, dtype=Q.dtype)
        if mask is not None:
            bias = bias.masked_fill(torch.broadcast_to(mask, (B, h, Lq, Lk)) == 0, float("-inf"))
        s = torch.baddbmm(bias.reshape(B * h, Lq, Lk), Q, K.transpose(1, 2), alpha=dk ** -0.5)
        w = s.softmax(-1)
        o = torch.bmm(w, V).view(B, h, Lq, dk).permute(0, 2, 1, 3).reshape(B, Lq, D)
        return self.W_o(o), w.view(B, h, Lq, Lk)
""",
    "float64-intermediates-minus-1e9": _INIT + """
    def forward(self, q, k, v, mask=None):
        dt, (B, Lq, D), h, dk = q.dtype, q.shape, self.h, self.d_k
        def proj(lin, x):
            return F.linear(x.double(), lin.weight.double(), lin.bias.double())
        Q = proj(self.W_q, q).unflatten(-1, (h, dk)).transpose(1, 2)
        K = proj(self.W_k, k).unflatten(-1, (h, dk)).transpose(1, 2)
        V = proj(self.W_v, v).unflatten(-1, (h, dk)).transpose(1, 2)
        s = Q @ K.transpose(-1, -2) / math.sqrt(dk)
        if mask is not None:
            s = s.masked_fill(mask == 0, -1e9)
        w = torch.softmax(s, -1)
        o = (w @ V).transpose(1, 2).flatten(2)
        return proj(self.W_o, o).to(dt), w.to(dt)
""",
    "numpy-core": _INIT + """
    def forward(self, q, k, v, mask=None):
        import numpy as np
        B, Lq, D = q.shape
        Lk, h, dk = k.shape[1], self.h, self.d_k
        Q = self.W_q(q).view(B, Lq, h, dk).transpose(1, 2)
        K = self.W_k(k).view(B, Lk, h, dk).transpose(1, 2)
        V = self.W_v(v).view(B, Lk, h, dk).transpose(1, 2)
        Qn, Kn, Vn = (t.detach().numpy().astype(np.float64) for t in (Q, K, V))
        s = Qn @ Kn.swapaxes(-1, -2) / np.sqrt(dk)
        if mask is not None:
            s = np.where(mask.numpy() != 0, s, -np.inf)
        e = np.exp(s - s.max(-1, keepdims=True))
        w = e / e.sum(-1, keepdims=True)
        o = torch.from_numpy((w @ Vn).transpose(0, 2, 1, 3).reshape(B, Lq, D)).to(q.dtype)
        return self.W_o(o), torch.from_numpy(w).to(q.dtype)
""",
    "loop-over-batch-and-heads": _INIT + """
    def forward(self, q, k, v, mask=None):
        B, Lq, D = q.shape
        Lk, h, dk = k.shape[1], self.h, self.d_k
        Q, K, V = self.W_q(q), self.W_k(k), self.W_v(v)
        m = None if mask is None else torch.broadcast_to(mask.bool(), (B, h, Lq, Lk))
        out = torch.zeros(B, Lq, D, dtype=q.dtype)
        W = torch.zeros(B, h, Lq, Lk, dtype=q.dtype)
        for b in range(B):
            for i in range(h):
                c = slice(i * dk, (i + 1) * dk)
                s = Q[b, :, c] @ K[b, :, c].T / dk ** 0.5
                if m is not None:
                    s = s.masked_fill(~m[b, i], float("-inf"))
                W[b, i] = torch.softmax(s, dim=1)
                out[b, :, c] = W[b, i] @ V[b, :, c]
        return self.W_o(out), W
""",
    "keepdim-false-and-cat-heads": _INIT + """
    def forward(self, q, k, v, mask=None):
        split = lambda x: x.reshape(x.shape[0], x.shape[1], self.h, self.d_k).transpose(1, 2)
        Q, K, V = split(self.W_q(q)), split(self.W_k(k)), split(self.W_v(v))
        s = Q @ K.mT / math.sqrt(self.d_k)
        if mask is not None:
            while mask.dim() < 4:
                mask = mask.unsqueeze(0)
            s = s.masked_fill(mask.eq(0), float("-inf"))
        e = torch.exp(s - s.max(-1).values.unsqueeze(-1))
        w = e / e.sum(-1).unsqueeze(-1)
        o = torch.cat([(w @ V)[:, i] for i in range(self.h)], dim=-1)
        return self.W_o(o), w
""",
}

_FORWARD = """
    def forward(self, q, k, v, mask=None):
        B, Lq, D = q.shape
        Lk = k.shape[1]
        Q = self.W_q(q).view(B, Lq, self.h, self.d_k).transpose(1, 2)
        K = self.W_k(k).view(B, Lk, self.h, self.d_k).transpose(1, 2)
        V = self.W_v(v).view(B, Lk, self.h, self.d_k).transpose(1, 2)
        s = Q @ K.transpose(-2, -1) / SCALE
        if mask is not None:
            s = s.masked_fill(MASK_TEST, float("-inf"))
        w = torch.softmax(s, dim=AXIS)
        o = (w @ V).transpose(1, 2).reshape(B, Lq, D)
        return OUT, w
"""


def _variant(scale="math.sqrt(self.d_k)", mask_test="mask == 0", axis="-1", out="self.W_o(o)") -> str:
    body = _FORWARD.replace("SCALE", scale).replace("MASK_TEST", mask_test).replace("AXIS", axis)
    return _INIT + body.replace("OUT", out)


BUGS = {
    "scale-by-d-model": _variant(scale="math.sqrt(D)"),
    "no-scale": _variant(scale="1.0"),
    "softmax-without-max-shift": _variant().replace(
        "w = torch.softmax(s, dim=-1)", "e = s.exp()\n        w = e / e.sum(-1, keepdim=True)"),
    "mask-polarity-flipped": _variant(mask_test="mask != 0"),
    "softmax-over-queries": _variant(axis="-2"),
    "no-output-projection": _variant(out="o"),
    "heads-split-without-transpose": _INIT + """
    def forward(self, q, k, v, mask=None):
        B, Lq, D = q.shape
        Lk = k.shape[1]
        Q = self.W_q(q).reshape(B, self.h, Lq, self.d_k)
        K = self.W_k(k).reshape(B, self.h, Lk, self.d_k)
        V = self.W_v(v).reshape(B, self.h, Lk, self.d_k)
        s = Q @ K.transpose(-2, -1) / math.sqrt(self.d_k)
        if mask is not None:
            s = s.masked_fill(mask == 0, float("-inf"))
        w = torch.softmax(s, dim=-1)
        return self.W_o((w @ V).reshape(B, Lq, D)), w
""",
    "scale-operator-precedence": _variant(scale="self.d_k ** 1/2"),
    "values-projected-from-keys": _variant().replace("self.W_v(v)", "self.W_v(k)"),
    "keys-projected-with-W_q": _variant().replace("self.W_k(k)", "self.W_q(k)"),
    "head-of-feature-j-is-j-mod-h": _variant().replace(
        ".view(B, Lq, self.h, self.d_k).transpose(1, 2)", ".view(B, Lq, self.d_k, self.h).permute(0, 3, 1, 2)").replace(
        ".view(B, Lk, self.h, self.d_k).transpose(1, 2)", ".view(B, Lk, self.d_k, self.h).permute(0, 3, 1, 2)"),
    "heads-merged-in-wrong-order": _variant().replace("(w @ V).transpose(1, 2)", "(w @ V).permute(0, 2, 3, 1)"),
    "output-projection-without-bias": _variant(out="F.linear(o, self.W_o.weight)"),
    "output-weight-not-transposed": _variant(out="o @ self.W_o.weight + self.W_o.bias"),
    "weights-averaged-then-broadcast": _variant().replace(
        "return self.W_o(o), w", "return self.W_o(o), w.mean(1, keepdim=True).expand_as(w)"),
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


def test_averaged_weights_fail_on_shape(grade_source):
    verdict = grade_source(PROBLEM, _variant().replace("return self.W_o(o), w", "return self.W_o(o), w.mean(1)"))
    assert verdict.first_failure().kind == "shape"


def test_wrong_parameter_names_are_named(grade_source):
    source = CORRECT["einsum-heads"].replace("self.W_o", "self.out_proj")
    verdict = grade_source(PROBLEM, source)
    failure = verdict.first_failure()
    assert verdict.status == "wrong_return"
    assert "W_o.weight" in failure.message and "out_proj.weight" in failure.message


def test_reference_matches_nn_multihead_attention_on_every_case():
    for case in stored_cases(PROBLEM):
        args, _, state = build_inputs(case)
        ours = reference(PROBLEM)(**case.init)
        ours.to(state["W_q.weight"].dtype).load_state_dict(state)
        d_model, h = case.init["d_model"], case.init["num_heads"]
        theirs = torch.nn.MultiheadAttention(d_model, h, batch_first=True, dtype=state["W_q.weight"].dtype)
        with torch.no_grad():
            theirs.in_proj_weight.copy_(torch.cat([state[f"W_{n}.weight"] for n in "qkv"]))
            theirs.in_proj_bias.copy_(torch.cat([state[f"W_{n}.bias"] for n in "qkv"]))
            theirs.out_proj.weight.copy_(state["W_o.weight"])
            theirs.out_proj.bias.copy_(state["W_o.bias"])
        q, k, v, *mask = args
        B, Lq, Lk = q.shape[0], q.shape[1], k.shape[1]
        blocked = None
        if mask:
            blocked = torch.broadcast_to(mask[0] == 0, (B, h, Lq, Lk)).reshape(B * h, Lq, Lk)
        with torch.no_grad():
            out, weights = ours(q, k, v, *mask)
            lib_out, lib_weights = theirs(q, k, v, attn_mask=blocked, average_attn_weights=False)
        torch.testing.assert_close(out, lib_out, msg=case.name)
        torch.testing.assert_close(weights, lib_weights, msg=case.name)


# files written in another convention: each verdict names it
NEAR_MISSES = {"scale-by-d-model": BUGS["scale-by-d-model"], "mask-inverted": BUGS["mask-polarity-flipped"]}


@pytest.mark.parametrize("variant", NEAR_MISSES)
def test_near_misses_are_named(grade_source, variant):
    assert_near_miss(grade_source(PROBLEM, NEAR_MISSES[variant]), PROBLEM, variant)
