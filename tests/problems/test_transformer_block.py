"""transformer-block: the reference agrees with a block assembled from nn.LayerNorm,
nn.MultiheadAttention, nn.Linear and nn.GELU, and with nn.TransformerEncoderLayer
(norm_first=True) on every stored case; correct variants pass, realistic bugs fail."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from drillcli.harness import build_inputs
from drillcli.solutions.transformer_block import TransformerBlock
from tests.support import assert_near_miss, assert_rejected, assert_within_half_tolerance, describe, stored_cases

PROBLEM = "transformer-block"

HEADER = "import math\nimport torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"

# A correct skeleton; each bug swaps one method.
ATTN_INIT = """
class Attn(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.h = h
        self.W_q, self.W_k, self.W_v, self.W_o = (nn.Linear(d, d) for _ in range(4))
"""
ATTN_FORWARD = """
    def forward(self, x):
        B, L, d = x.shape
        dh = d // self.h
        q, k, v = (W(x).view(B, L, self.h, dh).transpose(1, 2) for W in (self.W_q, self.W_k, self.W_v))
        s = q @ k.transpose(-2, -1) / math.sqrt(dh)
        s = s.masked_fill(torch.ones(L, L, dtype=torch.bool).tril().logical_not(), float("-inf"))
        y = torch.softmax(s, -1) @ v
        return self.W_o(y.transpose(1, 2).reshape(B, L, d))
"""
FFN = """
class FFN(nn.Module):
    def __init__(self, d, f):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(d, f), nn.Linear(f, d)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))
"""
BLOCK_INIT = """
class TransformerBlock(nn.Module):
    def __init__(self, d_model, num_heads, d_ff):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.attn = Attn(d_model, num_heads)
        self.ffn = FFN(d_model, d_ff)
"""
BLOCK_FORWARD = """
    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.ffn(self.ln2(x))
"""


def source(attn_forward=ATTN_FORWARD, ffn=FFN, block_forward=BLOCK_FORWARD):
    return HEADER + ATTN_INIT + attn_forward + ffn + BLOCK_INIT + block_forward


CORRECT = {
    "skeleton": source(),
    "einsum-manual-layernorm-manual-gelu": HEADER + """
class LN(nn.Module):
    def __init__(self, d, eps=1e-5):
        super().__init__()
        self.weight, self.bias, self.eps = nn.Parameter(torch.ones(d)), nn.Parameter(torch.zeros(d)), eps

    def forward(self, x):
        mu = x.mean(-1, keepdim=True)
        var = ((x - mu) ** 2).mean(-1, keepdim=True)
        return (x - mu) / torch.sqrt(var + self.eps) * self.weight + self.bias
""" + ATTN_INIT + """
    def forward(self, x):
        B, L, d = x.shape
        dh = d // self.h
        q, k, v = (W(x).reshape(B, L, self.h, dh) for W in (self.W_q, self.W_k, self.W_v))
        s = torch.einsum("bqhd,bkhd->bhqk", q, k) * dh ** -0.5
        future = torch.triu(torch.ones(L, L, dtype=torch.bool), diagonal=1)
        s = torch.where(future, torch.full_like(s, -torch.inf), s)
        y = torch.einsum("bhqk,bkhd->bqhd", s.softmax(-1), v).reshape(B, L, d)
        return self.W_o(y)

class FFN(nn.Module):
    def __init__(self, d, f):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(d, f), nn.Linear(f, d)

    def forward(self, x):
        a = self.fc1(x)
        return self.fc2(0.5 * a * (1 + torch.erf(a / math.sqrt(2))))

class TransformerBlock(nn.Module):
    def __init__(self, d_model, num_heads, d_ff):
        super().__init__()
        self.ln1, self.ln2 = LN(d_model), LN(d_model)
        self.attn = Attn(d_model, num_heads)
        self.ffn = FFN(d_model, d_ff)
""" + BLOCK_FORWARD,
    "fused-qkv-loop-over-heads-nonpersistent-buffer": HEADER + """
class Attn(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.h = h
        self.W_q, self.W_k, self.W_v, self.W_o = (nn.Linear(d, d) for _ in range(4))
        self.register_buffer("mask", torch.tril(torch.ones(64, 64, dtype=torch.bool)), persistent=False)

    def forward(self, x):
        B, L, d = x.shape
        dh = d // self.h
        w = torch.cat([self.W_q.weight, self.W_k.weight, self.W_v.weight])      # (3d, d)
        b = torch.cat([self.W_q.bias, self.W_k.bias, self.W_v.bias])
        q, k, v = F.linear(x, w, b).split(d, dim=-1)
        heads = []
        for i in range(self.h):
            sl = slice(i * dh, (i + 1) * dh)
            s = q[..., sl] @ k[..., sl].transpose(1, 2) / math.sqrt(dh)          # (B, L, L)
            s = s.masked_fill(~self.mask[:L, :L], torch.finfo(s.dtype).min)
            heads.append(torch.softmax(s, dim=-1) @ v[..., sl])
        return self.W_o(torch.cat(heads, dim=-1))
""" + FFN + BLOCK_INIT + BLOCK_FORWARD,
    "float64-intermediates-stable-softmax": source(attn_forward="""
    def forward(self, x):
        B, L, d = x.shape
        dt, dh = x.dtype, d // self.h
        x = x.double()
        q, k, v = (F.linear(x, W.weight.double(), W.bias.double()).view(B, L, self.h, dh).permute(0, 2, 1, 3)
                   for W in (self.W_q, self.W_k, self.W_v))
        s = torch.matmul(q, k.permute(0, 1, 3, 2)) / math.sqrt(dh)
        keep = torch.arange(L)[None, :] <= torch.arange(L)[:, None]
        s = s.masked_fill(~keep, -1e300)
        e = torch.exp(s - s.max(-1, keepdim=True).values) * keep
        y = (e / e.sum(-1, keepdim=True)) @ v
        y = y.permute(0, 2, 1, 3).contiguous().view(B, L, d)
        return F.linear(y, self.W_o.weight.double(), self.W_o.bias.double()).to(dt)
"""),
    "per-position-loop": source(attn_forward="""
    def forward(self, x):
        B, L, d = x.shape
        dh = d // self.h
        q, k, v = (W(x).view(B, L, self.h, dh).transpose(1, 2) for W in (self.W_q, self.W_k, self.W_v))
        rows = []
        for i in range(L):                      # query i attends to keys 0..i only
            s = q[:, :, i:i + 1] @ k[:, :, : i + 1].transpose(-2, -1) / math.sqrt(dh)
            rows.append(torch.softmax(s, -1) @ v[:, :, : i + 1])
        y = torch.cat(rows, dim=2)              # (B, h, L, dh)
        return self.W_o(y.transpose(1, 2).reshape(B, L, d))
"""),
}

BUGS = {
    "post-ln": source(block_forward="""
    def forward(self, x):
        x = self.ln1(x + self.attn(x))
        return self.ln2(x + self.ffn(x))
"""),
    "residual-from-normalised-input": source(block_forward="""
    def forward(self, x):
        h = self.ln1(x)
        x = h + self.attn(h)
        h = self.ln2(x)
        return h + self.ffn(h)
"""),
    "same-layernorm-twice": source(block_forward="""
    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.ffn(self.ln1(x))
"""),
    "no-causal-mask": source(attn_forward=ATTN_FORWARD.replace(
        '        s = s.masked_fill(torch.ones(L, L, dtype=torch.bool).tril().logical_not(), float("-inf"))\n', "")),
    "mask-excludes-diagonal": source(attn_forward=ATTN_FORWARD.replace(
        "torch.ones(L, L, dtype=torch.bool).tril().logical_not()", "torch.ones(L, L, dtype=torch.bool).triu()")),
    "mask-polarity-flipped": source(attn_forward=ATTN_FORWARD.replace(
        "torch.ones(L, L, dtype=torch.bool).tril().logical_not()",
        "torch.ones(L, L, dtype=torch.bool).tril(-1)")),
    "scale-by-d-model": source(attn_forward=ATTN_FORWARD.replace("math.sqrt(dh)", "math.sqrt(d)")),
    "softmax-without-max-shift": source(attn_forward=ATTN_FORWARD.replace(
        "y = torch.softmax(s, -1) @ v", "e = s.exp()\n        y = e / e.sum(-1, keepdim=True) @ v")),
    "heads-split-without-transpose": source(attn_forward=ATTN_FORWARD.replace(
        "W(x).view(B, L, self.h, dh).transpose(1, 2)", "W(x).view(B, self.h, L, dh)")),
    "heads-merged-without-transpose": source(attn_forward=ATTN_FORWARD.replace(
        "y.transpose(1, 2).reshape(B, L, d)", "y.reshape(B, L, d)")),
    "relu-instead-of-gelu": source(ffn=FFN.replace("F.gelu(", "F.relu(")),
    "tanh-gelu": source(ffn=FFN.replace("F.gelu(self.fc1(x))", "F.gelu(self.fc1(x), approximate='tanh')")),
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


def test_persistent_mask_buffer_is_reported(grade_source):
    src = source().replace("self.W_q, self.W_k, self.W_v, self.W_o = (nn.Linear(d, d) for _ in range(4))",
                           "self.W_q, self.W_k, self.W_v, self.W_o = (nn.Linear(d, d) for _ in range(4))\n"
                           "        self.register_buffer('bias', torch.ones(64, 64).tril())")
    verdict = grade_source(PROBLEM, src)
    assert not verdict.ok and "attn.bias" in (verdict.first_failure().message or ""), describe(verdict)


def test_forbidden_sdpa_is_refused(grade_source):
    src = source(attn_forward="""
    def forward(self, x):
        B, L, d = x.shape
        q, k, v = (W(x).view(B, L, self.h, -1).transpose(1, 2) for W in (self.W_q, self.W_k, self.W_v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.W_o(y.transpose(1, 2).reshape(B, L, d))
""")
    assert grade_source(PROBLEM, src).status == "forbidden"


def _assembled(state, d, h, f, dtype):
    """The block from torch modules: nn.LayerNorm, nn.MultiheadAttention, nn.Linear, nn.GELU."""
    ln1, ln2 = nn.LayerNorm(d).to(dtype), nn.LayerNorm(d).to(dtype)
    mha = nn.MultiheadAttention(d, h, batch_first=True).to(dtype)
    ffn = nn.Sequential(nn.Linear(d, f), nn.GELU(), nn.Linear(f, d)).to(dtype)
    ln1.load_state_dict({"weight": state["ln1.weight"], "bias": state["ln1.bias"]})
    ln2.load_state_dict({"weight": state["ln2.weight"], "bias": state["ln2.bias"]})
    mha.load_state_dict({
        "in_proj_weight": torch.cat([state[f"attn.W_{n}.weight"] for n in "qkv"]),
        "in_proj_bias": torch.cat([state[f"attn.W_{n}.bias"] for n in "qkv"]),
        "out_proj.weight": state["attn.W_o.weight"], "out_proj.bias": state["attn.W_o.bias"]})
    ffn.load_state_dict({"0.weight": state["ffn.fc1.weight"], "0.bias": state["ffn.fc1.bias"],
                         "2.weight": state["ffn.fc2.weight"], "2.bias": state["ffn.fc2.bias"]})

    def block(x):
        L = x.shape[1]
        future = torch.triu(torch.ones(L, L, dtype=torch.bool), diagonal=1)   # True = not allowed
        z = ln1(x)
        x = x + mha(z, z, z, attn_mask=future, need_weights=False)[0]
        return x + ffn(ln2(x))

    return block


def _encoder_layer(state, d, h, f, dtype):
    """nn.TransformerEncoderLayer with norm_first=True is the same Pre-LN block."""
    layer = nn.TransformerEncoderLayer(d, h, dim_feedforward=f, dropout=0.0, activation="gelu",
                                       batch_first=True, norm_first=True).to(dtype).eval()
    layer.load_state_dict({
        "self_attn.in_proj_weight": torch.cat([state[f"attn.W_{n}.weight"] for n in "qkv"]),
        "self_attn.in_proj_bias": torch.cat([state[f"attn.W_{n}.bias"] for n in "qkv"]),
        "self_attn.out_proj.weight": state["attn.W_o.weight"], "self_attn.out_proj.bias": state["attn.W_o.bias"],
        "linear1.weight": state["ffn.fc1.weight"], "linear1.bias": state["ffn.fc1.bias"],
        "linear2.weight": state["ffn.fc2.weight"], "linear2.bias": state["ffn.fc2.bias"],
        "norm1.weight": state["ln1.weight"], "norm1.bias": state["ln1.bias"],
        "norm2.weight": state["ln2.weight"], "norm2.bias": state["ln2.bias"]})

    def block(x):
        L = x.shape[1]
        return layer(x, src_mask=nn.Transformer.generate_square_subsequent_mask(L, dtype=x.dtype), is_causal=True)

    return block


def test_reference_matches_torch_on_every_case():
    cases = stored_cases(PROBLEM)
    assert len(cases) >= 20
    for case in cases:
        args, _, state = build_inputs(case)
        x = args[0].detach()
        d, h, f = case.init["d_model"], case.init["num_heads"], case.init["d_ff"]
        ours = TransformerBlock(**case.init).to(x.dtype)
        ours.load_state_dict(state)
        with torch.no_grad():
            got = ours(x)
            # float32 cases hold large offsets / sharp attention: library-vs-reference rounding in float32
            tol = {} if x.dtype == torch.float64 else {"atol": 2e-5, "rtol": 1e-4}
            torch.testing.assert_close(got, _assembled(state, d, h, f, x.dtype)(x), msg=case.name, **tol)
            torch.testing.assert_close(got, _encoder_layer(state, d, h, f, x.dtype)(x), msg=case.name, **tol)
        expected = torch.from_numpy(case.outputs["out"])
        torch.testing.assert_close(got.to(expected.dtype), expected, msg=case.name, atol=2e-5, rtol=1e-4)


def test_no_look_ahead_in_stored_case():
    case = next(c for c in stored_cases(PROBLEM) if c.name == "future-token-changed")
    out = case.outputs["out"]
    assert abs(out[0, :-1] - out[1, :-1]).max() < 1e-5 and abs(out[0, -1] - out[1, -1]).max() > 1e-2


# files written in another convention: each verdict names it
NEAR_MISSES = {"post-ln": BUGS["post-ln"], "tanh-gelu": BUGS["tanh-gelu"]}


@pytest.mark.parametrize("variant", NEAR_MISSES)
def test_near_misses_are_named(grade_source, variant):
    assert_near_miss(grade_source(PROBLEM, NEAR_MISSES[variant]), PROBLEM, variant)
