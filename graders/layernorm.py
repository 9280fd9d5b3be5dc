"""Cases for layer normalization: values and gradients w.r.t. x, weight and bias."""

from functools import partial

from drillcli.fixtures import Case, make_case

RETURNS = ("out",)
REFERENCE_DTYPE = "float64"


def _variant(x, weight, bias, eps=1e-5, *, unbiased=False, eps_outside=False):
    """LayerNorm with one convention changed: the unbiased variance (torch.var's default),
    or eps added to the standard deviation instead of the variance."""
    import torch

    mean = x.mean(dim=-1, keepdim=True)
    var = x.var(dim=-1, keepdim=True, unbiased=unbiased)
    std = var.sqrt() + eps if eps_outside else (var + eps).sqrt()
    return (x - mean) / std * weight + bias


NEAR_MISSES = {
    "unbiased-variance": ("your output matches LayerNorm with the unbiased variance (divided by d - 1, "
                          "torch.var's default); this problem uses the biased one, divided by d (see the prompt)",
                          partial(_variant, unbiased=True)),
    "eps-outside-sqrt": ("your output matches eps added outside the square root, (x - mean) / (std + eps); this "
                         "problem adds it inside: / sqrt(var + eps) (see the prompt)",
                         partial(_variant, eps_outside=True)),
}


def cases() -> list[Case]:
    import torch

    out: list[Case] = []

    def add(name, seed, dtype, shape, eps=None, offset=0.0, spread=1.0, noncontig=(), note=""):
        g = torch.Generator().manual_seed(seed)
        d = shape[-1]
        x = offset + spread * torch.randn(*shape, generator=g, dtype=torch.float64)
        weight = 1.0 + 0.5 * torch.randn(d, generator=g, dtype=torch.float64)
        bias = 0.5 * torch.randn(d, generator=g, dtype=torch.float64)
        upstream = torch.randn(*shape, generator=g, dtype=torch.float64)
        dt = getattr(torch, dtype)
        inputs = {"x": x.to(dt), "weight": weight.to(dt), "bias": bias.to(dt)}
        if eps is not None:
            inputs["eps"] = eps
        inputs["_upstream"] = upstream.to(dt)
        out.append(make_case(name, inputs, seed=seed, dtype=dtype, grad=("x", "weight", "bias"),
                             noncontig=noncontig, note=note))

    out.append(make_case("readable-1x3", {
        "x": torch.tensor([[1.0, 2.0, 3.0]]), "weight": torch.ones(3), "bias": torch.zeros(3),
        "_upstream": torch.tensor([[1.0, 0.0, 0.0]])},
        dtype="float32", grad=("x", "weight", "bias"), note="the example of the prompt"))
    out.append(make_case("readable-affine", {
        "x": torch.tensor([[0.0, 4.0], [2.0, 2.5]]), "weight": torch.tensor([2.0, 0.5]),
        "bias": torch.tensor([1.0, -1.0]), "_upstream": torch.ones(2, 2)},
        dtype="float32", grad=("x", "weight", "bias"), note="weight and bias applied per feature"))
    add("vector", 1, "float32", (8,), note="a single vector (no batch dimension)")
    add("batch", 2, "float32", (4, 16))
    add("batch-seq", 3, "float32", (2, 5, 32))
    add("batch-heads-seq", 4, "float32", (2, 3, 4, 8))
    add("d-equals-2", 5, "float32", (6, 2), note="d = 2: biased variance differs from unbiased by 2x")
    add("wide", 6, "float32", (3, 512))
    add("float64", 7, "float64", (4, 16))
    add("float64-batch-seq", 8, "float64", (2, 6, 24))
    add("custom-eps", 9, "float32", (4, 16), eps=1e-2, note="eps = 1e-2 passed explicitly: eps inside the sqrt")
    add("custom-eps-float64", 10, "float64", (3, 8), eps=0.5, note="a large eps makes its placement visible")
    add("eps-0", 24, "float32", (4, 16), eps=0.0, spread=1e-2,
        note="eps = 0.0 is a value, not 'use the default 1e-5': small values make the difference visible")
    add("eps-0-float64", 25, "float64", (3, 8), eps=0.0, note="eps = 0.0: no epsilon at all")
    add("tiny-variance", 11, "float32", (4, 16), spread=1e-3,
        note="variance ~1e-6, comparable to eps: eps must be added to the variance, inside the sqrt")
    add("tiny-variance-float64", 12, "float64", (4, 16), spread=1e-4, eps=1e-5)
    add("large-offset", 13, "float32", (4, 64), offset=30.0,
        note="values around 30: a one-pass E[x^2] - E[x]^2 variance cancels catastrophically")
    add("large-offset-float64", 14, "float64", (4, 64), offset=1e4, spread=1.0,
        note="values around 1e4: a one-pass variance loses ~8 digits")
    add("large-scale", 15, "float32", (4, 16), spread=1e3, note="values in the thousands")
    add("noncontiguous", 16, "float32", (3, 4, 16), noncontig=("x", "weight", "bias"),
        note="x, weight and bias are non-contiguous views")
    add("noncontiguous-float64", 17, "float64", (2, 8), noncontig=("x",))
    for i, shape in enumerate([(7, 3), (1, 1, 5), (2, 2, 2, 6)]):
        add(f"random-shape-{i}", 20 + i, "float32" if i % 2 == 0 else "float64", shape)

    g = torch.Generator().manual_seed(30)
    x = torch.randn(3, 8, generator=g)
    x[1] = 2.5  # a constant row: var = 0, output = bias, gradient w.r.t. x stays finite
    out.append(make_case("constant-row", {"x": x, "weight": torch.randn(8, generator=g),
                                          "bias": torch.randn(8, generator=g),
                                          "_upstream": torch.randn(3, 8, generator=g)},
                         seed=30, dtype="float32", grad=("x", "weight", "bias"),
                         note="row 1 is constant: variance 0, only eps keeps it finite"))
    return out
