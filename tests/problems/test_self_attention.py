"""self-attention: the reference agrees with torch, correct variants pass, realistic bugs fail."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from drillcli.harness import build_inputs
from tests.support import assert_near_miss, assert_rejected, assert_within_half_tolerance, describe, reference, stored_cases

PROBLEM = "self-attention"

HEADER = """
import math, torch
import torch.nn as nn
import torch.nn.functional as F

class SelfAttention(nn.Module):
    def __init__(self, d_model, d_head, bias=True):
        super().__init__()
        self.d_head = d_head
        self.W_q = nn.Linear(d_model, d_head, bias=bias)
        self.W_k = nn.Linear(d_model, d_head, bias=bias)
        self.W_v = nn.Linear(d_model, d_head, bias=bias)
        self.W_o = nn.Linear(d_head, d_model, bias=bias)
"""

CORRECT = {
    "functional-linear-einsum": HEADER + """
    def forward(self, x, mask=None):
        q = F.linear(x, self.W_q.weight, self.W_q.bias)
        k = F.linear(x, self.W_k.weight, self.W_k.bias)
        v = F.linear(x, self.W_v.weight, self.W_v.bias)
        s = torch.einsum("...id,...jd->...ij", q, k) * self.d_head ** -0.5
        if mask is not None:
            s = s.masked_fill(~mask.bool(), float("-inf"))
        w = s.softmax(-1)
        return self.W_o(torch.einsum("...ij,...jd->...id", w, v)), w
""",
    "scale-q-manual-softmax-where": HEADER + """
    def forward(self, x, mask=None):
        q = self.W_q(x) / math.sqrt(self.d_head)
        s = q @ self.W_k(x).mT
        if mask is not None:
            s = torch.where(mask != 0, s, torch.finfo(s.dtype).min)
        e = (s - s.max(-1, keepdim=True).values).exp()
        if mask is not None:
            e = e * (mask != 0)
        w = e / e.sum(-1, keepdim=True)
        return self.W_o(w @ self.W_v(x)), w
""",
    "flatten-leading-dims-bmm": HEADER + """
    def forward(self, x, mask=None):
        lead, L = x.shape[:-2], x.shape[-2]
        xf = x.reshape(-1, L, x.shape[-1])
        q, k, v = self.W_q(xf), self.W_k(xf), self.W_v(xf)
        s = torch.bmm(q, k.transpose(1, 2)) / math.sqrt(q.shape[-1])
        if mask is not None:
            m = torch.broadcast_to(mask != 0, (*lead, L, L)).reshape(-1, L, L)
            s = s.masked_fill(~m, -math.inf)
        w = torch.softmax(s, dim=2)
        out = self.W_o(torch.bmm(w, v))
        return out.reshape(*lead, L, -1), w.reshape(*lead, L, L)
""",
    "float64-inside-log-softmax": HEADER + """
    def forward(self, x, mask=None):
        q, k, v = self.W_q(x).double(), self.W_k(x).double(), self.W_v(x).double()
        s = q @ k.transpose(-2, -1) / math.sqrt(self.d_head)
        if mask is not None:
            s = s.masked_fill(mask == 0, -math.inf)
        w = torch.log_softmax(s, -1).exp().to(x.dtype)
        return self.W_o(w @ v.to(x.dtype)), w
""",
}

BUGS = {
    "scale-by-d-model": HEADER + """
    def forward(self, x, mask=None):
        q, k, v = self.W_q(x), self.W_k(x), self.W_v(x)
        s = q @ k.transpose(-2, -1) / math.sqrt(x.shape[-1])
        if mask is not None:
            s = s.masked_fill(mask == 0, float("-inf"))
        w = torch.softmax(s, dim=-1)
        return self.W_o(w @ v), w
""",
    "softmax-without-max-shift": HEADER + """
    def forward(self, x, mask=None):
        q, k, v = self.W_q(x), self.W_k(x), self.W_v(x)
        s = q @ k.transpose(-2, -1) / math.sqrt(self.d_head)
        e = s.exp()
        if mask is not None:
            e = e * (mask != 0)
        w = e / e.sum(-1, keepdim=True)
        return self.W_o(w @ v), w
""",
    "softmax-over-queries": HEADER + """
    def forward(self, x, mask=None):
        q, k, v = self.W_q(x), self.W_k(x), self.W_v(x)
        s = q @ k.transpose(-2, -1) / math.sqrt(self.d_head)
        if mask is not None:
            s = s.masked_fill(mask == 0, float("-inf"))
        w = torch.softmax(s, dim=-2)
        return self.W_o(w @ v), w
""",
    "mask-polarity-flipped": HEADER + """
    def forward(self, x, mask=None):
        q, k, v = self.W_q(x), self.W_k(x), self.W_v(x)
        s = q @ k.transpose(-2, -1) / math.sqrt(self.d_head)
        if mask is not None:
            s = s.masked_fill(mask.bool(), float("-inf"))
        w = torch.nan_to_num(torch.softmax(s, dim=-1))
        return self.W_o(w @ v), w
""",
    "key-value-projections-swapped": HEADER + """
    def forward(self, x, mask=None):
        q, k, v = self.W_q(x), self.W_v(x), self.W_k(x)
        s = q @ k.transpose(-2, -1) / math.sqrt(self.d_head)
        if mask is not None:
            s = s.masked_fill(mask == 0, float("-inf"))
        w = torch.softmax(s, dim=-1)
        return self.W_o(w @ v), w
""",
    "weights-used-without-bias": HEADER + """
    def forward(self, x, mask=None):
        q, k, v = (x @ lin.weight.T for lin in (self.W_q, self.W_k, self.W_v))
        s = q @ k.transpose(-2, -1) / math.sqrt(self.d_head)
        if mask is not None:
            s = s.masked_fill(mask == 0, float("-inf"))
        w = torch.softmax(s, dim=-1)
        return self.W_o(w @ v), w
""",
    "mask-filled-with-zero": HEADER + """
    def forward(self, x, mask=None):
        q, k, v = self.W_q(x), self.W_k(x), self.W_v(x)
        s = q @ k.transpose(-2, -1) / math.sqrt(self.d_head)
        if mask is not None:
            s = s * mask
        w = torch.softmax(s, dim=-1)
        return self.W_o(w @ v), w
""",
}

# bugs that break the structure of some cases rather than only their values
STRUCTURAL = {
    # a (.., d_head) output where (.., d_model) is expected: reported as its shape
    "forgot-output-projection": ("failed", HEADER + """
    def forward(self, x, mask=None):
        q, k, v = self.W_q(x), self.W_k(x), self.W_v(x)
        s = q @ k.transpose(-2, -1) / math.sqrt(self.d_head)
        if mask is not None:
            s = s.masked_fill(mask == 0, float("-inf"))
        w = torch.softmax(s, dim=-1)
        return w @ v, w
"""),
    "weight-not-transposed": ("error", HEADER + """
    def forward(self, x, mask=None):
        q, k, v = x @ self.W_q.weight, x @ self.W_k.weight, x @ self.W_v.weight
        s = q @ k.transpose(-2, -1) / math.sqrt(self.d_head)
        if mask is not None:
            s = s.masked_fill(mask == 0, float("-inf"))
        w = torch.softmax(s, dim=-1)
        return self.W_o(w @ v), w
"""),
    "no-grad-inference-only": ("wrong_return", HEADER + """
    @torch.no_grad()
    def forward(self, x, mask=None):
        q, k, v = self.W_q(x), self.W_k(x), self.W_v(x)
        s = q @ k.transpose(-2, -1) / math.sqrt(self.d_head)
        if mask is not None:
            s = s.masked_fill(mask == 0, float("-inf"))
        w = torch.softmax(s, dim=-1)
        return self.W_o(w @ v), w
"""),
    "extra-scale-parameter": ("wrong_return", HEADER.replace(
        "self.W_o = nn.Linear(d_head, d_model, bias=bias)",
        "self.W_o = nn.Linear(d_head, d_model, bias=bias)\n        self.scale = nn.Parameter(torch.tensor(d_head ** -0.5))") + """
    def forward(self, x, mask=None):
        q, k, v = self.W_q(x), self.W_k(x), self.W_v(x)
        s = q @ k.transpose(-2, -1) * self.scale
        if mask is not None:
            s = s.masked_fill(mask == 0, float("-inf"))
        w = torch.softmax(s, dim=-1)
        return self.W_o(w @ v), w
"""),
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


@pytest.mark.parametrize("name", STRUCTURAL)
def test_structural_bugs_fail(grade_source, name):
    status, source = STRUCTURAL[name]
    verdict = grade_source(PROBLEM, source)
    assert verdict.status == status and verdict.passed < verdict.total, describe(verdict)


def test_forbidden_multihead(grade_source):
    verdict = grade_source(PROBLEM, HEADER + """
    def forward(self, x, mask=None):
        mha = nn.MultiheadAttention(x.shape[-1], 1, batch_first=True)
        return mha(x, x, x)
""")
    assert verdict.status == "forbidden", describe(verdict)


def _module(case, state):
    module = reference(PROBLEM)(**case.init)
    if case.dtype == "float64":
        module = module.double()
    module.load_state_dict(state)
    return module


def test_reference_matches_torch_on_every_case():
    for case in stored_cases(PROBLEM):
        args, _, state = build_inputs(case)
        x, *mask = args
        mask = (mask[0] != 0) if mask else None
        with torch.no_grad():
            out, weights = _module(case, state)(*args)
        # the same computation through F.linear + F.scaled_dot_product_attention
        lin = lambda t, n: F.linear(t, state[f"{n}.weight"], state.get(f"{n}.bias"))  # noqa: E731
        expected = lin(F.scaled_dot_product_attention(lin(x, "W_q"), lin(x, "W_k"), lin(x, "W_v"), attn_mask=mask), "W_o")
        torch.testing.assert_close(out, expected, msg=case.name)
        torch.testing.assert_close(out, torch.from_numpy(case.outputs["out"]), msg=case.name)
        d_model, d_head = case.init["d_model"], case.init["d_head"]
        if d_model == d_head:
            # nn.MultiheadAttention with one head and the same weights
            mha = torch.nn.MultiheadAttention(d_model, 1, bias=case.init["bias"], batch_first=True).to(x.dtype)
            mha.load_state_dict({"in_proj_weight": torch.cat([state[f"W_{n}.weight"] for n in "qkv"]),
                                 "out_proj.weight": state["W_o.weight"]}
                                | ({"in_proj_bias": torch.cat([state[f"W_{n}.bias"] for n in "qkv"]),
                                    "out_proj.bias": state["W_o.bias"]} if case.init["bias"] else {}))
            L = x.shape[-2]
            xb = x.reshape(-1, L, d_model)
            attn_mask = None if mask is None else ~torch.broadcast_to(mask, (*x.shape[:-2], L, L)).reshape(-1, L, L)
            with torch.no_grad():
                mo, mw = mha(xb, xb, xb, attn_mask=attn_mask)
            torch.testing.assert_close(out.reshape(-1, L, d_model), mo, msg=case.name)
            torch.testing.assert_close(weights.reshape(-1, L, L), mw, msg=case.name)


# files written in another convention: each verdict names it
NEAR_MISSES = {
    "scale-by-d-model": BUGS["scale-by-d-model"],
    "mask-inverted": BUGS["mask-polarity-flipped"].replace("torch.nan_to_num(torch.softmax(s, dim=-1))", "torch.softmax(s, dim=-1)"),
}


@pytest.mark.parametrize("variant", NEAR_MISSES)
def test_near_misses_are_named(grade_source, variant):
    assert_near_miss(grade_source(PROBLEM, NEAR_MISSES[variant]), PROBLEM, variant)
