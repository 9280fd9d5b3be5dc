"""Cases for grouped-query attention: MHA, MQA and GQA head layouts, masks, float64, gradients."""

from functools import partial

from drillcli.fixtures import Case, make_case
from drillcli.graders.attention_inputs import integer_values, projection_state, random_mask

RETURNS = ("out", "weights")
REFERENCE_DTYPE = "float64"


def _variant(d_model, num_heads, num_kv_heads, bias=True, *, tile=False, masked_row="zero"):
    """GQA with one convention changed: kv heads tiled with `repeat` (query head i uses kv head
    i % num_kv_heads), or a fully masked row left NaN ("nan") or made uniform ("uniform")."""
    import math

    import torch
    from torch import nn

    hd, group = d_model // num_heads, num_heads // num_kv_heads

    class Variant(nn.Module):
        def __init__(self):
            super().__init__()
            self.W_q, self.W_o = (nn.Linear(d_model, d_model, bias=bias) for _ in range(2))
            self.W_k, self.W_v = (nn.Linear(d_model, num_kv_heads * hd, bias=bias) for _ in range(2))

        def forward(self, x, mask=None):
            B, L, _ = x.shape
            q, k, v = (w(x).view(B, L, -1, hd).transpose(1, 2) for w in (self.W_q, self.W_k, self.W_v))
            k, v = ((t.repeat(1, group, 1, 1) if tile else t.repeat_interleave(group, dim=1)) for t in (k, v))
            s = q @ k.transpose(-2, -1) / math.sqrt(hd)
            if mask is not None:
                s = s.masked_fill(mask == 0, torch.finfo(s.dtype).min if masked_row == "uniform" else float("-inf"))
            w = torch.softmax(s, dim=-1)
            w = w.nan_to_num(0.0) if masked_row == "zero" else w
            return self.W_o((w @ v).transpose(1, 2).reshape(B, L, d_model)), w

    return Variant()


NEAR_MISSES = {
    "repeat": ("your output matches kv heads tiled with repeat (query head i uses kv head i % num_kv_heads); "
               "this problem groups consecutive query heads, repeat_interleave (see the prompt)",
               partial(_variant, tile=True)),
    "masked-row-nan": ("your output matches a plain softmax over a fully masked row, which gives NaN; here such "
                       "a row gets weights 0 and an attention output of 0 (see the prompt)",
                       partial(_variant, masked_row="nan")),
    "masked-row-uniform": ("your output matches masking with a large finite negative (finfo.min, -1e9), which "
                           "makes a fully masked row uniform; here such a row gets weights 0 (see the prompt)",
                           partial(_variant, masked_row="uniform")),
}


def _projections(g, d_model, num_heads, num_kv_heads, bias, scale, integer):
    kv = num_kv_heads * (d_model // num_heads)
    shapes = {"W_q": (d_model, d_model), "W_k": (kv, d_model), "W_v": (kv, d_model), "W_o": (d_model, d_model)}
    return projection_state(g, shapes, bias, scale, qk_integer=integer)


def cases() -> list[Case]:
    import torch

    out: list[Case] = []

    def add(name, seed, dtype, B, L, d_model, heads, kv_heads, bias=True, mask=None, scale=1.0,
            grad=False, noncontig=(), integer=None, note=""):
        g = torch.Generator().manual_seed(seed)
        dt = getattr(torch, dtype)
        x = integer_values(g, (B, L, d_model), integer) if integer else torch.randn(B, L, d_model, generator=g, dtype=torch.float64)
        inputs = {"x": x.to(dt)}
        m = mask(g) if callable(mask) else mask
        if m is not None:
            inputs["mask"] = m
        inputs |= {k: v.to(dt) for k, v in _projections(g, d_model, heads, kv_heads, bias, scale, integer).items()}
        if grad:
            inputs["_upstream"] = torch.randn(B, L, d_model, generator=g, dtype=torch.float64).to(dt)
        init = {"d_model": d_model, "num_heads": heads, "num_kv_heads": kv_heads}
        if not bias:
            init["bias"] = False
        out.append(make_case(name, inputs, seed=seed, dtype=dtype, init=init, grad=("x",) if grad else (),
                             noncontig=tuple(noncontig), note=note))

    causal = lambda L: torch.tril(torch.ones(L, L, dtype=torch.bool))  # noqa: E731

    # readable: d_model 4, 2 query heads of size 2 sharing one kv head, identity weights, no bias
    eye4 = torch.eye(4)
    out.append(make_case("readable-mqa", {
        "x": torch.tensor([[[1.0, 0.0, 0.0, 1.0], [0.0, 2.0, 1.0, 0.0]]]),
        "state.W_q.weight": eye4, "state.W_k.weight": eye4[:2], "state.W_v.weight": eye4[2:],
        "state.W_o.weight": eye4}, dtype="float32",
        init={"d_model": 4, "num_heads": 2, "num_kv_heads": 1, "bias": False},
        note="the example of the prompt: 2 query heads share one key/value head"))
    add("mha-equivalent", 1, "float32", 2, 5, 8, 2, 2, note="num_kv_heads = num_heads: plain multi-head attention")
    add("mqa", 2, "float32", 2, 5, 8, 4, 1, note="num_kv_heads = 1: multi-query attention")
    add("gqa-8-heads-2-groups", 3, "float32", 2, 6, 16, 8, 2,
        note="8 query heads, 2 kv heads: heads 0-3 use kv head 0, heads 4-7 kv head 1 (repeat_interleave, not repeat)")
    add("gqa-6-heads-3-groups", 4, "float32", 1, 5, 12, 6, 3,
        note="6 query heads, 3 kv heads: query head i uses kv head i // 2")
    add("gqa-4-heads-2-groups-no-bias", 5, "float32", 2, 4, 8, 4, 2, bias=False,
        note="bias=False (LLaMA style): no bias entries in the state_dict")
    add("mqa-no-bias-float64", 6, "float64", 2, 5, 12, 3, 1, bias=False)
    add("single-head", 7, "float32", 2, 4, 6, 1, 1, note="one head: head_dim = d_model")
    add("head-dim-1", 8, "float32", 2, 4, 4, 4, 2, note="head_dim = 1")
    add("single-token", 9, "float32", 3, 1, 8, 4, 2, note="L = 1: every weight is 1")
    add("causal-gqa", 10, "float32", 2, 7, 16, 4, 2, mask=causal(7), note="(L, L) causal mask broadcast over batch and heads")
    add("padding-mask-mqa", 11, "float32", 3, 5, 8, 2, 1, note="key padding mask of shape (B, 1, 1, L)",
        mask=torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 0, 0, 0]], dtype=torch.bool)[:, None, None, :])
    add("per-head-mask", 12, "float32", 2, 5, 16, 8, 2, mask=lambda g: random_mask(g, (2, 8, 5, 5)),
        note="a different random mask for every query head: weights must be per query head")
    add("float64-gqa", 13, "float64", 2, 6, 16, 8, 4)
    add("float64-causal-mqa", 14, "float64", 2, 6, 12, 4, 1, mask=causal(6))
    add("large-logits", 15, "float32", 2, 6, 16, 4, 2, scale=8.0,
        note="q and k projections scaled up: logits in the tens, the softmax must subtract the row max")
    add("large-logits-float64", 16, "float64", 2, 6, 16, 4, 1, scale=25.0,
        note="logits in the thousands: exp() overflows float64 past 710 without the row max")
    # integer x, W_q, W_k and biases, head_dim 4: logits are exact in float32 and pass 100
    add("huge-logits", 21, "float32", 2, 6, 16, 4, 2, integer=2,
        note="logits in the hundreds: exp() overflows float32 past 88.7, the softmax must subtract the row max")
    add("huge-logits-causal-mqa", 22, "float32", 2, 6, 16, 4, 1, integer=2, mask=causal(6),
        note="logits in the hundreds under a causal mask")

    def fully_masked(g, shape):
        m = random_mask(g, shape)
        m[0, :, -1] = False      # the last query of batch 0 sees no key, in every head
        m[1, 1, 2] = False       # query 2 of batch 1 sees no key in head 1 only
        return m

    add("fully-masked-rows", 23, "float32", 2, 5, 16, 4, 2, mask=lambda g: fully_masked(g, (2, 4, 5, 5)),
        note="rows whose mask hides every key: their weights are 0 and their attention output is 0 (out = W_o's bias)")
    add("fully-masked-rows-float64", 24, "float64", 2, 5, 12, 4, 1, mask=lambda g: fully_masked(g, (2, 4, 5, 5)),
        note="rows whose mask hides every key: weights 0, attention output 0")
    add("noncontiguous", 17, "float32", 2, 5, 8, 4, 2, noncontig=("x",), note="x is a non-contiguous view")
    add("grad-x-gqa", 18, "float32", 2, 5, 16, 8, 2, grad=True, mask=causal(5),
        note="gradient of out w.r.t. x (upstream gradient given): keep the graph connected")
    add("grad-x-mqa-float64", 19, "float64", 2, 4, 8, 4, 1, grad=True)
    add("long-sequence", 20, "float32", 1, 64, 32, 8, 2, mask=causal(64))
    for i, (B, L, dm, h, hkv) in enumerate([(3, 9, 18, 6, 2), (1, 3, 20, 10, 5), (4, 2, 16, 16, 4)]):
        add(f"random-shapes-{i}", 30 + i, "float32" if i % 2 == 0 else "float64", B, L, dm, h, hkv, bias=i != 1)
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
