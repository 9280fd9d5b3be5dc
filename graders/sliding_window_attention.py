"""Cases for causal sliding-window attention: window sizes from 1 to beyond L, batch/head dims,
float64, large logits, non-contiguous inputs, gradients."""

from functools import partial

from drillcli.fixtures import Case, make_case
from drillcli.graders.attention_inputs import integer_values

RETURNS = ("out", "weights")
REFERENCE_DTYPE = "float64"


def _variant(q, k, v, window, *, visible):
    """Attention restricted by another window rule: visible(i - j, window) -> bool (L, L)."""
    import math

    import torch

    i = torch.arange(q.shape[-2])
    s = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    w = torch.softmax(s.masked_fill(~visible(i[:, None] - i[None, :], window), float("-inf")), dim=-1)
    return w @ v, w


NEAR_MISSES = {
    "window-plus-current": ("your output matches a window of `window` previous tokens plus the current one "
                            "(0 <= i - j <= window); here the window counts the current token: "
                            "0 <= i - j < window (see the prompt)",
                            partial(_variant, visible=lambda dist, w: (dist >= 0) & (dist <= w))),
    "symmetric": ("your output matches a symmetric window, |i - j| < window, that also sees future tokens; this "
                  "problem is causal: 0 <= i - j < window (see the prompt)",
                  partial(_variant, visible=lambda dist, w: dist.abs() < w)),
}


def cases() -> list[Case]:
    import torch

    f32, f64 = torch.float32, torch.float64
    out: list[Case] = []

    def add(name, seed, dtype, lead, L, d, dv, window, scale=1.0, grad=False, noncontig=(), qkv=None, note=""):
        g = torch.Generator().manual_seed(seed)
        if qkv is None:
            qkv = (torch.randn(*lead, L, d, generator=g, dtype=f64) * scale,
                   torch.randn(*lead, L, d, generator=g, dtype=f64) * scale,
                   torch.randn(*lead, L, dv, generator=g, dtype=f64))
        q, k, v = (t.to(dtype) for t in qkv)
        inputs = {"q": q, "k": k, "v": v, "window": window}
        if grad:
            inputs["_upstream"] = torch.randn(*q.shape[:-1], v.shape[-1], generator=g, dtype=f64).to(dtype)
        out.append(make_case(name, inputs, seed=seed, dtype=str(dtype).removeprefix("torch."),
                             grad=("q", "k", "v") if grad else (), noncontig=tuple(noncontig), note=note))

    ex = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, -1.0]])
    add("readable-window-2", 0, f32, (), 4, 2, 1, 2, qkv=(ex, ex.clone(), torch.tensor([[1.0], [2.0], [3.0], [4.0]])),
        note="the example of the prompt: each token sees itself and the one before")
    add("readable-window-3", 0, f32, (), 4, 2, 1, 3, qkv=(ex, ex.clone(), torch.tensor([[1.0], [2.0], [3.0], [4.0]])),
        note="window 3: token i sees tokens i-2, i-1, i")
    add("window-1-self-only", 1, f32, (2,), 6, 4, 4, 1, note="window = 1: every token sees only itself, out = v")
    add("window-2", 2, f32, (2,), 8, 4, 4, 2)
    add("window-3-heads", 3, f32, (2, 3), 9, 8, 8, 3, note="leading (batch, heads) dims")
    add("window-equals-length", 4, f32, (2,), 6, 4, 4, 6, note="window = L: plain causal attention")
    add("window-larger-than-length", 5, f32, (2,), 5, 4, 4, 50, note="window > L: plain causal attention")
    add("window-length-minus-1", 6, f32, (2,), 7, 4, 4, 6,
        note="window = L - 1: only the last query loses a key (key 0): catches an off-by-one in the window")
    add("single-token", 7, f32, (3,), 1, 4, 4, 3, note="L = 1")
    add("no-lead-dims", 8, f32, (), 10, 6, 3, 4, note="(L, d) inputs, dv != d")
    add("rectangular-dv", 9, f32, (2,), 8, 4, 7, 3, note="dv != d: the scale uses d = q.shape[-1]")
    add("float64", 10, f64, (2, 2), 9, 8, 8, 4)
    add("float64-window-1", 11, f64, (2,), 5, 4, 2, 1)
    add("large-logits", 12, f32, (2,), 8, 16, 8, 3, scale=4.0,
        note="logits in the tens: the softmax must subtract the row max")
    # integer q, k and d = 16: q @ k.T / 4 is exact; row maxima pass 100 (float32, exp overflows
    # past 88.7) or 710 (float64)
    for name, seed, dtype, bound, window in (("huge-logits", 37, f32, 12, 3), ("huge-logits-window-5", 40, f32, 12, 5),
                                             ("huge-logits-float64", 30, f64, 40, 3)):
        g = torch.Generator().manual_seed(seed)
        qkv = (integer_values(g, (2, 8, 16), bound), integer_values(g, (2, 8, 16), bound),
               torch.randn(2, 8, 8, generator=g, dtype=f64))
        add(name, seed, dtype, (2,), 8, 16, 8, window, qkv=qkv,
            note="logits far beyond exp()'s range: the softmax must subtract the row max")
    add("noncontiguous", 14, f32, (2,), 7, 4, 4, 3, noncontig=("q", "k", "v"), note="q, k, v are non-contiguous views")
    add("grad", 15, f32, (2,), 6, 4, 4, 2, grad=True,
        note="gradients w.r.t. q, k and v (upstream gradient given): masked keys get no gradient")
    add("grad-float64", 16, f64, (2,), 7, 4, 3, 3, grad=True)
    add("long-sequence", 17, f32, (1, 2), 64, 16, 16, 8)
    add("long-sequence-float64", 18, f64, (2,), 48, 8, 8, 16)
    for i, (lead, L, d, dv, w) in enumerate([((3,), 9, 5, 2, 5), ((1, 1, 2), 7, 3, 6, 2), ((4,), 12, 2, 2, 11)]):
        add(f"random-shapes-{i}", 30 + i, f32 if i % 2 == 0 else f64, lead, L, d, dv, w)
    return out
