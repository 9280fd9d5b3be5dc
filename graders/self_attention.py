"""Cases for single-head self-attention: weights from the state_dict, masks, float64, gradients."""

from functools import partial

from drillcli.fixtures import Case, make_case
from drillcli.graders.attention_inputs import projection_state, random_mask

RETURNS = ("out", "weights")
REFERENCE_DTYPE = "float64"


def _variant(d_model, d_head, bias=True, *, scale_by_d_model=False, keep=True):
    """Self-attention with one convention changed: scores divided by sqrt(d_model) instead
    of sqrt(d_head), or the mask's polarity (keep=False: nonzero means masked out)."""
    import math

    import torch
    from torch import nn

    class Variant(nn.Module):
        def __init__(self):
            super().__init__()
            self.W_q, self.W_k, self.W_v = (nn.Linear(d_model, d_head, bias=bias) for _ in range(3))
            self.W_o = nn.Linear(d_head, d_model, bias=bias)

        def forward(self, x, mask=None):
            q, k, v = self.W_q(x), self.W_k(x), self.W_v(x)
            s = q @ k.transpose(-2, -1) / math.sqrt(d_model if scale_by_d_model else d_head)
            if mask is not None:
                s = s.masked_fill((mask == 0) if keep else (mask != 0), float("-inf"))
            w = torch.softmax(s, dim=-1)
            return self.W_o(w @ v), w

    return Variant()


NEAR_MISSES = {
    "scale-by-d-model": ("your output matches scores divided by sqrt(d_model); this problem divides them by "
                         "sqrt(d_head) (see the prompt)", partial(_variant, scale_by_d_model=True)),
    "mask-inverted": ("your output matches the inverted mask convention (True = masked out, as in nn.MultiheadAttention's "
                      "attn_mask); here True / nonzero means may attend (see the prompt)", partial(_variant, keep=False)),
}


def _projections(g, d_model, d_head, bias, scale):
    """state_dict of SelfAttention(d_model, d_head, bias) drawn from g (float64)."""
    shapes = {"W_q": (d_head, d_model), "W_k": (d_head, d_model), "W_v": (d_head, d_model), "W_o": (d_model, d_head)}
    return projection_state(g, shapes, bias, scale)


def cases() -> list[Case]:
    import torch

    out: list[Case] = []

    def add(name, seed, dtype, lead, L, d_model, d_head, bias=True, mask=None, scale=1.0, xscale=1.0,
            grad=False, noncontig=(), note=""):
        g = torch.Generator().manual_seed(seed)
        dt = getattr(torch, dtype)
        x = torch.randn(*lead, L, d_model, generator=g, dtype=torch.float64) * xscale
        inputs = {"x": x.to(dt)}
        m = mask(g) if callable(mask) else mask
        if m is not None:
            inputs["mask"] = m
        inputs |= {k: v.to(dt) for k, v in _projections(g, d_model, d_head, bias, scale).items()}
        if grad:
            inputs["_upstream"] = torch.randn(*lead, L, d_model, generator=g, dtype=torch.float64).to(dt)
        out.append(make_case(name, inputs, seed=seed, dtype=dtype, init={"d_model": d_model, "d_head": d_head, "bias": bias},
                             grad=("x",) if grad else (), noncontig=tuple(noncontig), note=note))

    eye = torch.eye(2)
    out.append(make_case("readable-2-tokens", {
        "x": torch.tensor([[1.0, 0.0], [0.0, 2.0]]),
        "state.W_q.weight": eye, "state.W_k.weight": eye, "state.W_v.weight": eye,
        "state.W_o.weight": torch.tensor([[1.0, 1.0], [0.0, 1.0]])},
        dtype="float32", init={"d_model": 2, "d_head": 2, "bias": False},
        note="the example of the prompt: identity projections, no bias"))
    out.append(make_case("readable-causal", {
        "x": torch.tensor([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]]),
        "mask": torch.tril(torch.ones(3, 3, dtype=torch.bool)),
        "state.W_q.weight": eye, "state.W_k.weight": eye, "state.W_v.weight": eye,
        "state.W_o.weight": torch.tensor([[1.0, 1.0], [0.0, 1.0]])},
        dtype="float32", init={"d_model": 2, "d_head": 2, "bias": False},
        note="causal 3x3 mask: token i sees tokens 0..i"))
    add("unbatched", 1, "float32", (), 5, 8, 4, note="x is (L, d_model) with no batch dimension")
    add("batch", 2, "float32", (2,), 6, 8, 4)
    add("d-head-differs", 3, "float32", (2,), 5, 16, 4,
        note="d_head = 4, d_model = 16: the scale is 1/sqrt(d_head), not 1/sqrt(d_model)")
    add("d-head-larger", 4, "float32", (2,), 4, 4, 12, note="d_head > d_model")
    add("square-with-bias", 5, "float32", (3,), 4, 6, 6, note="d_head = d_model: W_o still applies")
    add("no-bias", 6, "float32", (2,), 5, 8, 8, bias=False, note="bias=False: the state_dict has no bias entries")
    add("no-bias-rectangular", 7, "float64", (2,), 5, 12, 4, bias=False)
    add("extra-lead-dims", 8, "float32", (2, 3), 4, 8, 4, note="x has two leading dimensions (..., L, d_model)")
    add("single-token", 9, "float32", (3,), 1, 8, 4, note="L = 1: the only weight is 1")
    add("causal-mask", 10, "float32", (2,), 7, 8, 4, mask=torch.tril(torch.ones(7, 7, dtype=torch.bool)))
    add("padding-mask", 11, "float32", (3,), 5, 8, 4, note="key padding mask of shape (B, 1, L)",
        mask=torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 0, 0, 0]], dtype=torch.bool)[:, None, :])
    add("random-mask-int", 12, "float32", (2,), 6, 8, 4, mask=lambda g: random_mask(g, (2, 6, 6)).to(torch.int64),
        note="mask of 1 / 0 integers")
    add("float64", 13, "float64", (2,), 6, 8, 4)
    add("float64-mask-lead", 14, "float64", (2, 2), 5, 6, 3, mask=lambda g: random_mask(g, (2, 1, 5, 5)))
    add("large-logits", 15, "float32", (2,), 6, 16, 16, scale=6.0, xscale=3.0,
        note="q and k projections scaled up: logits past 1000, exp() overflows float32 without the row max")
    add("large-logits-float64", 16, "float64", (2,), 6, 16, 8, scale=20.0, xscale=4.0,
        note="logits past 10000: exp() overflows float64 without the row max")
    add("noncontiguous", 17, "float32", (2,), 5, 8, 4, noncontig=("x",), note="x is a non-contiguous view")
    add("grad-x", 18, "float32", (2,), 5, 8, 4, grad=True,
        note="gradient of out w.r.t. x (upstream gradient given): keep the graph connected")
    add("grad-x-float64-causal", 19, "float64", (2,), 6, 6, 3, grad=True,
        mask=torch.tril(torch.ones(6, 6, dtype=torch.bool)))
    add("long-sequence", 20, "float32", (1,), 64, 32, 16, mask=torch.tril(torch.ones(64, 64, dtype=torch.bool)))
    for i, (lead, L, dm, dh) in enumerate([((3,), 9, 10, 5), ((1, 2), 3, 7, 2), ((4,), 2, 3, 9)]):
        add(f"random-shapes-{i}", 30 + i, "float32" if i % 2 == 0 else "float64", lead, L, dm, dh, bias=i != 1)
    return out


def run(entry, kind, case, names):
    """Build the module, cast it to the input dtype, load the state_dict, call it on (x[, mask])."""
    import torch

    from drillcli.harness import build_inputs, check_inputs_unchanged, gradients, instantiate, unpack

    args, named, state = build_inputs(case)
    module = instantiate(entry, case, state)
    if args[0].dtype == torch.float64:
        module = module.double()
        module.load_state_dict(state)   # reload: the first load rounded the float64 state to float32
    returned = unpack(module(*args), names)
    check_inputs_unchanged(case, named)
    return {**returned, **gradients(case, returned, named)}
