"""Cases for the Pre-LN causal transformer block (weights from a state_dict)."""

from functools import partial

from drillcli.fixtures import Case, make_case

RETURNS = ("out",)
REFERENCE_DTYPE = "float64"


def _variant(d_model, num_heads, d_ff, *, post_ln=False, gelu="none"):
    """The block with one convention changed: Post-LN (x = ln(x + f(x))) or the tanh GELU."""
    import math

    import torch
    from torch import nn

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.W_q, self.W_k, self.W_v, self.W_o = (nn.Linear(d_model, d_model) for _ in range(4))

        def forward(self, x):
            B, L, _ = x.shape
            q, k, v = (W(x).view(B, L, num_heads, -1).transpose(1, 2) for W in (self.W_q, self.W_k, self.W_v))
            s = (q @ k.transpose(-2, -1) / math.sqrt(d_model // num_heads)).masked_fill(
                ~torch.ones(L, L, dtype=torch.bool).tril(), float("-inf"))
            return self.W_o((torch.softmax(s, dim=-1) @ v).transpose(1, 2).reshape(B, L, d_model))

    class FeedForward(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(d_model, d_ff), nn.Linear(d_ff, d_model)

        def forward(self, x):
            return self.fc2(nn.functional.gelu(self.fc1(x), approximate=gelu))

    class Variant(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1, self.attn, self.ln2, self.ffn = nn.LayerNorm(d_model), Attention(), nn.LayerNorm(d_model), FeedForward()

        def forward(self, x):
            if post_ln:
                x = self.ln1(x + self.attn(x))
                return self.ln2(x + self.ffn(x))
            x = x + self.attn(self.ln1(x))
            return x + self.ffn(self.ln2(x))

    return Variant()


NEAR_MISSES = {
    "post-ln": ("your output matches a Post-LN block, x = ln(x + f(x)) (the 2017 Transformer, BERT); this "
                "problem is Pre-LN: x = x + f(ln(x)) (see the prompt)", partial(_variant, post_ln=True)),
    "tanh-gelu": ("your output matches the tanh approximation of GELU; this problem uses the exact (erf) GELU "
                  "(see the prompt)", partial(_variant, gelu="tanh")),
}


def _state(g, d_model, d_ff, dtype, w_scale=1.0):
    """Random weights in the block's state_dict layout (float64 draws, cast once)."""
    import torch

    f64 = torch.float64
    s = {}
    for ln in ("ln1", "ln2"):
        s[f"state.{ln}.weight"] = 1.0 + 0.3 * torch.randn(d_model, generator=g, dtype=f64)
        s[f"state.{ln}.bias"] = 0.2 * torch.randn(d_model, generator=g, dtype=f64)
    for name in ("W_q", "W_k", "W_v", "W_o"):
        s[f"state.attn.{name}.weight"] = w_scale * torch.randn(d_model, d_model, generator=g, dtype=f64) / d_model ** 0.5
        s[f"state.attn.{name}.bias"] = 0.1 * torch.randn(d_model, generator=g, dtype=f64)
    s["state.ffn.fc1.weight"] = torch.randn(d_ff, d_model, generator=g, dtype=f64) / d_model ** 0.5
    s["state.ffn.fc1.bias"] = 0.1 * torch.randn(d_ff, generator=g, dtype=f64)
    s["state.ffn.fc2.weight"] = torch.randn(d_model, d_ff, generator=g, dtype=f64) / d_ff ** 0.5
    s["state.ffn.fc2.bias"] = 0.1 * torch.randn(d_model, generator=g, dtype=f64)
    return {k: v.to(dtype) for k, v in s.items()}


def cases() -> list[Case]:
    import torch

    f32, f64 = torch.float32, torch.float64
    out: list[Case] = []

    def add(name, seed, dtype, B, L, d_model, h, d_ff, x_scale=1.0, offset=0.0, w_scale=1.0, grad=False,
            noncontig=False, x=None, note=""):
        g = torch.Generator().manual_seed(seed)
        if x is None:
            x = offset + x_scale * torch.randn(B, L, d_model, generator=g, dtype=f64)
        inputs = {"x": x.to(dtype)} | _state(g, d_model, d_ff, dtype, w_scale)
        if grad:
            inputs["_upstream"] = torch.randn(B, L, d_model, generator=g, dtype=f64).to(dtype)
        out.append(make_case(name, inputs, seed=seed, dtype=str(dtype).removeprefix("torch."),
                             init={"d_model": d_model, "num_heads": h, "d_ff": d_ff}, note=note,
                             grad=("x",) if grad else (), noncontig=("x",) if noncontig else ()))

    # readable: identity projections, unit LayerNorms, zero biases (the example of the prompt)
    eye, zeros = torch.eye(2), torch.zeros(2)
    readable = {"x": torch.tensor([[[1.0, 2.0], [3.0, 0.0]]])}
    for ln in ("ln1", "ln2"):
        readable |= {f"state.{ln}.weight": torch.ones(2), f"state.{ln}.bias": zeros}
    for name in ("attn.W_q", "attn.W_k", "attn.W_v", "attn.W_o", "ffn.fc1", "ffn.fc2"):
        readable |= {f"state.{name}.weight": eye, f"state.{name}.bias": zeros}
    out.append(make_case("readable", readable, dtype="float32", init={"d_model": 2, "num_heads": 1, "d_ff": 2},
                         note="the example of the prompt: identity weights, one head"))
    # zero output projections: both branches add only their biases, the block is x + b_o + b_fc2
    g = torch.Generator().manual_seed(1)
    st = _state(g, 4, 8, f32)
    st["state.attn.W_o.weight"].zero_()
    st["state.ffn.fc2.weight"].zero_()
    out.append(make_case("zero-output-projections", {"x": torch.randn(2, 3, 4, generator=g)} | st, seed=1,
                         dtype="float32", init={"d_model": 4, "num_heads": 2, "d_ff": 8},
                         note="W_o and fc2 weights are zero: out = x + attn.W_o.bias + ffn.fc2.bias (residuals only)"))
    add("one-head", 2, f32, 2, 5, 8, 1, 32)
    add("two-heads", 3, f32, 2, 6, 8, 2, 32)
    add("four-heads", 4, f32, 3, 7, 16, 4, 64, note="head_dim 4 != d_model: the scale is 1/sqrt(head_dim)")
    add("head-dim-1", 5, f32, 2, 4, 4, 4, 16, note="num_heads = d_model: head_dim 1")
    add("seq-1", 6, f32, 3, 1, 8, 2, 16, note="L = 1: each token attends only to itself")
    add("batch-1", 7, f32, 1, 9, 12, 3, 48)
    add("d-ff-small", 8, f32, 2, 5, 8, 2, 4, note="d_ff < d_model")
    add("float64", 9, f64, 2, 6, 16, 4, 64)
    add("float64-heads", 10, f64, 3, 5, 12, 6, 24)
    add("longer-sequence", 11, f32, 2, 32, 32, 4, 128)
    add("sharp-attention", 12, f32, 2, 8, 16, 2, 32, w_scale=4.0,
        note="large q/k weights: attention logits in the tens, near one-hot rows")
    add("sharp-attention-float64", 13, f64, 2, 8, 16, 4, 32, w_scale=8.0, note="attention logits in the hundreds")
    add("huge-logits", 24, f32, 2, 8, 16, 2, 32, w_scale=8.0,
        note="attention logits in the hundreds: exp() overflows float32 past 88.7 without the row max")
    add("huge-logits-float64", 25, f64, 2, 8, 16, 4, 32, w_scale=16.0,
        note="attention logits past 1000: exp() overflows float64 past 710 without the row max")
    add("large-offset", 14, f32, 2, 6, 16, 4, 32, offset=100.0, x_scale=0.5,
        note="x = 100 + noise: LayerNorm must subtract the mean; the residual keeps the offset")
    add("large-scale-float64", 15, f64, 2, 6, 16, 4, 32, x_scale=1e3, note="|x| in the thousands")
    # the future must not leak: only the last position of one sequence changes between the two
    g = torch.Generator().manual_seed(16)
    base = torch.randn(1, 6, 8, generator=g, dtype=f64)
    leak = torch.cat([base, base.clone()], dim=0)
    leak[1, -1] = 50.0 * torch.randn(8, generator=g, dtype=f64)
    add("future-token-changed", 16, f32, 2, 6, 8, 2, 16, x=leak,
        note="the two sequences differ only at the last position: outputs at positions 0..L-2 must agree")
    add("grad", 17, f32, 2, 5, 8, 2, 16, grad=True, note="gradient w.r.t. x through both branches and residuals")
    add("grad-float64", 18, f64, 2, 4, 12, 3, 24, grad=True, note="gradient w.r.t. x")
    add("noncontiguous", 19, f32, 2, 5, 8, 2, 16, noncontig=True, note="x is a non-contiguous view")
    for i, (B, L, d, h, f) in enumerate([(3, 3, 6, 3, 10), (1, 11, 20, 5, 40), (4, 2, 9, 1, 27)]):
        add(f"random-shapes-{i}", 20 + i, f32 if i % 2 == 0 else f64, B, L, d, h, f)
    return out
