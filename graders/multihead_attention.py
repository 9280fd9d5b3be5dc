"""Cases for multi-head attention: weights come from a state_dict, masks of several shapes."""

from functools import partial

from drillcli.fixtures import Case, make_case
from drillcli.graders.attention_inputs import integer_values, nonbinary_mask, random_mask

RETURNS = ("out", "weights")
REFERENCE_DTYPE = "float64"


def _variant(d_model, num_heads, *, scale_by_d_model=False, keep=True):
    """Multi-head attention with one convention changed: scores divided by sqrt(d_model)
    instead of sqrt(d_k), or the mask's polarity (keep=False: nonzero means masked out)."""
    import math

    import torch
    from torch import nn

    class Variant(nn.Module):
        def __init__(self):
            super().__init__()
            self.W_q, self.W_k, self.W_v, self.W_o = (nn.Linear(d_model, d_model) for _ in range(4))

        def forward(self, q, k, v, mask=None):
            B, Lq, Lk, h = q.shape[0], q.shape[1], k.shape[1], num_heads
            Q, K, V = (w(t).view(B, t.shape[1], h, -1).transpose(1, 2)
                       for w, t in ((self.W_q, q), (self.W_k, k), (self.W_v, v)))
            s = Q @ K.transpose(-2, -1) / math.sqrt(d_model if scale_by_d_model else d_model // h)
            if mask is not None:
                s = s.masked_fill((mask == 0) if keep else (mask != 0), float("-inf"))
            w = torch.softmax(s, dim=-1)
            return self.W_o((w @ V).transpose(1, 2).reshape(B, Lq, d_model)), w

    return Variant()


NEAR_MISSES = {
    "scale-by-d-model": ("your output matches scores divided by sqrt(d_model); this problem divides each head's "
                         "scores by sqrt(d_k), d_k = d_model / num_heads (see the prompt)",
                         partial(_variant, scale_by_d_model=True)),
    "mask-inverted": ("your output matches the inverted mask convention (True = masked out, as in nn.MultiheadAttention's "
                      "attn_mask); here True / nonzero means may attend (see the prompt)", partial(_variant, keep=False)),
}


def _state(g, d_model, dtype, scale=1.0, integer=None):
    """Weights N(0, scale²/d_model), biases N(0, 0.01); with integer = b, W_q and W_k (weights and
    biases) are integers in [-b, b], so logits of integer inputs are exact in float32."""
    import torch

    state = {}
    for name in ("W_q", "W_k", "W_v", "W_o"):
        if integer and name in ("W_q", "W_k"):
            w, b = integer_values(g, (d_model, d_model), integer), integer_values(g, (d_model,), integer)
            state[f"state.{name}.weight"], state[f"state.{name}.bias"] = w.to(dtype), b.to(dtype)
            continue
        w = torch.randn(d_model, d_model, generator=g, dtype=torch.float64) * scale / d_model ** 0.5
        b = torch.randn(d_model, generator=g, dtype=torch.float64) * 0.1
        state[f"state.{name}.weight"], state[f"state.{name}.bias"] = w.to(dtype), b.to(dtype)
    return state


def cases() -> list[Case]:
    import torch

    out: list[Case] = []

    def add(name, seed, dtype, B, lq, lk, d_model, heads, mask=None, self_attn=False, scale=1.0,
            integer=None, noncontig=(), note=""):
        g = torch.Generator().manual_seed(seed)
        dt = getattr(torch, dtype)
        draw = (lambda n: integer_values(g, (B, n, d_model), integer)) if integer else \
            (lambda n: torch.randn(B, n, d_model, generator=g, dtype=torch.float64))
        q = draw(lq).to(dt)
        k = q if self_attn else draw(lk).to(dt)
        v = q if self_attn else torch.randn(B, lk, d_model, generator=g, dtype=torch.float64).to(dt)
        inputs = {"q": q, "k": k, "v": v}
        m = mask(g) if callable(mask) else mask
        if m is not None:
            inputs["mask"] = m
        inputs.update(_state(g, d_model, dt, scale, integer))
        out.append(make_case(name, inputs, seed=seed, dtype=dtype, init={"d_model": d_model, "num_heads": heads},
                             noncontig=noncontig, note=note))

    tril = lambda n: torch.tril(torch.ones(n, n, dtype=torch.bool))  # noqa: E731
    add("tiny-2-heads", 0, "float32", 1, 3, 3, 4, 2, self_attn=True, note="d_model 4, 2 heads of size 2")
    add("one-head", 1, "float32", 2, 4, 4, 8, 1, note="one head: plain attention with projections")
    add("self-attention", 2, "float32", 2, 5, 5, 16, 4, self_attn=True)
    add("cross-attention", 3, "float32", 2, 3, 7, 16, 4, note="Lq != Lk")
    add("head-dim-1", 4, "float32", 2, 4, 4, 8, 8, note="as many heads as features: d_k = 1")
    add("many-heads", 5, "float32", 1, 6, 6, 32, 8)
    add("causal-mask", 6, "float32", 2, 6, 6, 16, 4, mask=tril(6), self_attn=True,
        note="(Lq, Lk) causal mask broadcast over batch and heads")
    add("padding-mask", 7, "float32", 3, 4, 5, 16, 2, note="key padding mask (B, 1, 1, Lk)",
        mask=torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 0, 0, 0]], dtype=torch.bool)[:, None, None, :])
    add("per-head-mask", 8, "float32", 2, 4, 4, 16, 4, mask=lambda g: random_mask(g, (2, 4, 4, 4)),
        note="a different mask for every head: (B, h, Lq, Lk)")
    add("int-mask", 9, "float32", 2, 5, 5, 8, 2, mask=lambda g: random_mask(g, (1, 1, 5, 5)).to(torch.int64),
        note="mask given as 1 / 0 integers")
    add("nonbinary-int-mask", 23, "float32", 2, 5, 5, 8, 2, mask=lambda g: nonbinary_mask(g, (2, 1, 5, 5)),
        note="mask values 2, -1, 3 also mean 'may attend': only 0 masks")
    add("float64", 10, "float64", 2, 5, 5, 16, 4)
    add("float64-masked", 11, "float64", 2, 6, 4, 12, 3, mask=lambda g: random_mask(g, (2, 1, 6, 4)))
    add("large-logits", 12, "float32", 2, 4, 4, 16, 2, scale=6.0, note="large projections: logits in the tens")
    add("large-logits-float64", 13, "float64", 2, 4, 4, 16, 2, scale=20.0,
        note="logits in the thousands: exp() overflows float64 past 710 without the row max")
    # integer q, k, W_q, W_k and biases, d_k = 4: the logits are exact in float32 and pass 100
    add("huge-logits", 24, "float32", 2, 5, 6, 8, 2, integer=3,
        note="logits in the hundreds: exp() overflows float32 past 88.7, the softmax must subtract the row max")
    add("huge-logits-causal", 25, "float32", 2, 6, 6, 8, 2, integer=3, self_attn=True, mask=tril(6),
        note="logits in the hundreds under a causal mask")
    add("noncontiguous", 14, "float32", 2, 5, 6, 16, 4, noncontig=("q", "k", "v"))
    add("noncontiguous-float64", 15, "float64", 2, 4, 4, 8, 2, noncontig=("q", "k", "v", "mask"),
        mask=lambda g: random_mask(g, (2, 2, 4, 4)))
    add("batch-1-length-1", 16, "float32", 1, 1, 1, 8, 2, note="a single token: every weight is 1")
    add("single-key", 17, "float32", 3, 4, 1, 8, 4)
    add("long-sequence", 18, "float32", 2, 32, 32, 32, 4, mask=tril(32), self_attn=True)
    for i, (B, lq, lk, d, h) in enumerate([(3, 2, 5, 24, 6), (1, 7, 3, 10, 5), (2, 3, 3, 6, 3)]):
        add(f"random-shapes-{i}", 20 + i, "float32" if i != 1 else "float64", B, lq, lk, d, h)
    return out
