"""Cases for scaled dot-product attention."""

from functools import partial

from drillcli.fixtures import Case, make_case
from drillcli.graders.attention_inputs import integer_values, nonbinary_mask, random_mask

RETURNS = ("out", "weights")
REFERENCE_DTYPE = "float64"


def _variant(q, k, v, mask=None, *, scale="d", axis=-1, keep=True):
    """Attention with one convention changed: the scale (d, dv or none), the softmax axis,
    or the mask's polarity (keep=False: nonzero means masked out)."""
    import math

    import torch

    s = q @ k.transpose(-2, -1)
    s = s / math.sqrt({"d": q.shape[-1], "dv": v.shape[-1], "none": 1}[scale])
    if mask is not None:
        s = s.masked_fill((mask == 0) if keep else (mask != 0), float("-inf"))
    w = torch.softmax(s, dim=axis)
    return w @ v, w


NEAR_MISSES = {
    "unscaled": ("your output matches attention without the 1/sqrt(d) scale; this problem divides the scores "
                 "by sqrt(d) (see the prompt)", partial(_variant, scale="none")),
    "scale-by-dv": ("your output matches attention scaled by 1/sqrt(dv), the value dimension; this problem "
                    "scales by 1/sqrt(d) with d = q.shape[-1] (see the prompt)", partial(_variant, scale="dv")),
    "softmax-over-queries": ("your output matches a softmax over the query axis (dim=-2); this problem takes the "
                             "softmax over the keys, the last axis (see the prompt)", partial(_variant, axis=-2)),
    "mask-inverted": ("your output matches the inverted mask convention (True = masked out, as in "
                      "nn.MultiheadAttention's attn_mask); here True / nonzero means may attend (see the prompt)",
                      partial(_variant, keep=False)),
}


def _qkv(g, lead, lq, lk, d, dv, dtype, scale=1.0):
    import torch

    q = torch.randn(*lead, lq, d, generator=g, dtype=torch.float64) * scale
    k = torch.randn(*lead, lk, d, generator=g, dtype=torch.float64) * scale
    v = torch.randn(*lead, lk, dv, generator=g, dtype=torch.float64)
    return q.to(dtype), k.to(dtype), v.to(dtype)


def cases() -> list[Case]:
    import torch

    f32, f64 = torch.float32, torch.float64
    out: list[Case] = []

    def add(name, seed, dtype, lead, lq, lk, d, dv, mask=None, scale=1.0, note="", noncontig=()):
        g = torch.Generator().manual_seed(seed)
        q, k, v = _qkv(g, lead, lq, lk, d, dv, dtype, scale)
        m = mask(g) if callable(mask) else mask
        inputs = {"q": q, "k": k, "v": v} | ({"mask": m} if m is not None else {})
        out.append(make_case(name, inputs, seed=seed, dtype=str(dtype).removeprefix("torch."),
                             note=note, noncontig=tuple(noncontig)))

    out.append(make_case("readable-2x2", {
        "q": torch.tensor([[1.0, 0.0], [0.0, 1.0]]), "k": torch.tensor([[1.0, 0.0], [0.0, 1.0]]),
        "v": torch.tensor([[1.0, 2.0], [3.0, 4.0]])}, dtype="float32", note="the example of the prompt"))
    out.append(make_case("readable-masked", {
        "q": torch.tensor([[1.0, 2.0], [0.5, -1.0], [0.0, 1.0]]),
        "k": torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]),
        "v": torch.tensor([[1.0], [10.0], [100.0]]),
        "mask": torch.tensor([[True, False, False], [True, True, False], [True, True, True]])},
        dtype="float32", note="causal 3x3 mask: row i sees keys 0..i"))
    add("single-query", 1, f32, (), 1, 5, 4, 4)
    add("rectangular-dv", 2, f32, (), 3, 7, 4, 6, note="Lq != Lk and dv != d: scale uses d = q.shape[-1]")
    add("batch", 3, f32, (2,), 4, 4, 8, 8)
    add("batch-heads", 4, f32, (2, 3), 5, 6, 8, 8)
    add("key-length-1", 5, f32, (2,), 3, 1, 4, 4, note="a single key: every weight is 1")
    add("head-dim-1", 6, f32, (2,), 4, 4, 1, 3)
    add("causal-mask", 7, f32, (2, 2), 6, 6, 8, 8, mask=torch.tril(torch.ones(6, 6, dtype=torch.bool)),
        note="(Lq, Lk) lower-triangular mask broadcast over batch and heads")
    add("padding-mask", 8, f32, (3, 2), 4, 5, 8, 8, note="key padding mask of shape (B, 1, 1, Lk)",
        mask=lambda g: torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 0, 0, 0]], dtype=torch.bool)[:, None, None, :])
    add("random-mask", 9, f32, (2, 2), 5, 7, 8, 4, mask=lambda g: random_mask(g, (2, 2, 5, 7)))
    add("float-mask", 10, f32, (2,), 4, 6, 8, 8, note="mask given as 1.0 / 0.0 floats",
        mask=lambda g: random_mask(g, (2, 4, 6)).to(torch.float32))
    add("int-mask", 11, f32, (2,), 4, 6, 8, 8, note="mask given as 1 / 0 integers",
        mask=lambda g: random_mask(g, (1, 4, 6)).to(torch.int64))
    add("nonbinary-int-mask", 33, f32, (2, 4), 6, 6, 8, 8, note="mask values 2, -1, 3 also mean 'may attend': only 0 masks",
        mask=lambda g: nonbinary_mask(g, (2, 1, 6, 6)))
    add("nonbinary-float-mask", 34, f64, (2,), 5, 7, 8, 4, note="float mask with values like 0.5 and -1: only 0 masks",
        mask=lambda g: nonbinary_mask(g, (2, 5, 7)).to(torch.float64) * 0.5)
    add("float64", 12, f64, (2,), 5, 5, 8, 8)
    add("float64-heads-mask", 13, f64, (2, 4), 6, 6, 16, 8, mask=lambda g: random_mask(g, (2, 1, 6, 6)))
    add("large-logits", 14, f32, (2,), 4, 6, 16, 8, scale=4.0,
        note="logits in the tens: softmax must subtract the row max")
    add("large-logits-float64", 15, f64, (2,), 4, 6, 16, 8, scale=12.0, note="logits in the hundreds")
    for name, seed, dtype, bound, masked in (("huge-logits", 31, f32, 12, False), ("huge-logits-masked", 40, f32, 12, True),
                                             ("huge-logits-float64", 32, f64, 40, False)):
        # integer q, k and d = 16: q @ k.T / 4 is exact, so the expected value holds no rounding;
        # row maxima pass 100 (float32, exp overflows past 88.7) or 710 (float64)
        g = torch.Generator().manual_seed(seed)
        q, k = (integer_values(g, (2, 5, 16), bound).to(dtype) for _ in range(2))
        v = torch.randn(2, 5, 8, generator=g, dtype=torch.float64).to(dtype)
        inputs = {"q": q, "k": k, "v": v} | ({"mask": random_mask(g, (2, 5, 5))} if masked else {})
        out.append(make_case(name, inputs, seed=seed, dtype=str(dtype).removeprefix("torch."),
                             note="logits far beyond exp()'s range: softmax must subtract the row max"))
    add("tiny-values", 16, f32, (2,), 4, 4, 8, 8, scale=1e-4, note="near-zero scores: nearly uniform weights")
    add("noncontiguous", 17, f32, (2, 2), 5, 6, 8, 8, noncontig=("q", "k", "v"),
        note="q, k, v are non-contiguous views")
    add("noncontiguous-masked", 18, f64, (2,), 4, 4, 8, 8, noncontig=("q", "k", "v", "mask"),
        mask=lambda g: random_mask(g, (2, 4, 4)))
    add("long-sequence", 19, f32, (1, 2), 64, 64, 32, 32, mask=torch.tril(torch.ones(64, 64, dtype=torch.bool)))
    for i, (lead, lq, lk, d, dv) in enumerate([((3,), 2, 9, 12, 5), ((1, 1, 2), 7, 3, 6, 10), ((4, 2), 3, 3, 2, 2)]):
        add(f"random-shapes-{i}", 20 + i, f32 if i % 2 == 0 else f64, lead, lq, lk, d, dv)

    # identical keys: every row of weights is uniform, whatever the scale
    k = torch.ones(2, 5, 4)
    out.append(make_case("constant-keys", {"q": torch.randn(2, 3, 4, generator=torch.Generator().manual_seed(30)),
                                           "k": k, "v": torch.arange(40.0).reshape(2, 5, 4)},
                         seed=30, dtype="float32", note="all keys equal: weights are uniform"))
    return out
