"""Cases for RMS normalization: values and gradients w.r.t. x and weight."""

from drillcli.fixtures import Case, make_case

RETURNS = ("out",)
REFERENCE_DTYPE = "float64"


def _eps_outside(x, weight, eps=1e-6):
    """RMSNorm with eps added to the root mean square instead of under the root."""
    return x / (x.pow(2).mean(dim=-1, keepdim=True).sqrt() + eps) * weight


NEAR_MISSES = {
    "eps-outside-sqrt": ("your output matches eps added outside the square root, x / (rms + eps); this problem "
                         "adds it inside: x / sqrt(mean(x²) + eps) (see the prompt)", _eps_outside),
}


def cases() -> list[Case]:
    import torch

    out: list[Case] = []

    def add(name, seed, dtype, shape, eps=None, offset=0.0, spread=1.0, noncontig=(), note=""):
        g = torch.Generator().manual_seed(seed)
        d = shape[-1]
        x = offset + spread * torch.randn(*shape, generator=g, dtype=torch.float64)
        weight = 1.0 + 0.5 * torch.randn(d, generator=g, dtype=torch.float64)
        upstream = torch.randn(*shape, generator=g, dtype=torch.float64)
        dt = getattr(torch, dtype)
        inputs = {"x": x.to(dt), "weight": weight.to(dt)}
        if eps is not None:
            inputs["eps"] = eps
        inputs["_upstream"] = upstream.to(dt)
        out.append(make_case(name, inputs, seed=seed, dtype=dtype, grad=("x", "weight"),
                             noncontig=tuple(noncontig), note=note))

    out.append(make_case("readable-1x4", {
        "x": torch.tensor([[1.0, 2.0, 3.0, 4.0]]), "weight": torch.ones(4), "_upstream": torch.tensor([[1.0, 0.0, 0.0, 0.0]])},
        dtype="float32", grad=("x", "weight"), note="the example of the prompt: rms = sqrt(7.5)"))
    out.append(make_case("readable-weight", {
        "x": torch.tensor([[3.0, -4.0], [1.0, 1.0]]), "weight": torch.tensor([2.0, 0.5]), "_upstream": torch.ones(2, 2)},
        dtype="float32", grad=("x", "weight"), note="weight scales each feature after normalizing; no mean is subtracted"))
    add("vector", 1, "float32", (8,), note="a single vector (no batch dimension)")
    add("batch", 2, "float32", (4, 16))
    add("batch-seq", 3, "float32", (2, 5, 32))
    add("batch-heads-seq", 4, "float32", (2, 3, 4, 8))
    add("d-equals-1", 5, "float32", (6, 1), note="d = 1: every output is sign(x) * weight (up to eps)")
    add("wide", 6, "float32", (3, 512))
    add("nonzero-mean", 7, "float32", (4, 16), offset=3.0,
        note="inputs with mean 3: RMSNorm does NOT subtract the mean (that would be LayerNorm)")
    add("float64", 8, "float64", (4, 16))
    add("float64-batch-seq", 9, "float64", (2, 6, 24))
    add("custom-eps", 10, "float32", (4, 16), eps=1e-2, note="eps = 1e-2 passed explicitly: eps inside the sqrt")
    add("custom-eps-float64", 11, "float64", (3, 8), eps=0.5, note="a large eps makes its placement visible")
    add("eps-0", 24, "float32", (4, 16), eps=0.0, spread=1e-2,
        note="eps = 0.0 is a value, not 'use the default 1e-6': small values make the difference visible")
    add("eps-0-float64", 25, "float64", (3, 8), eps=0.0, note="eps = 0.0: no epsilon at all")
    add("tiny-values", 12, "float32", (4, 16), spread=1e-3,
        note="mean(x²) ~ 1e-6, equal to the default eps: eps must be added to mean(x²), inside the sqrt")
    add("tiny-values-float64", 13, "float64", (4, 16), spread=1e-4,
        note="mean(x²) ~ 1e-8 << eps: the output is ~ x / sqrt(eps)")
    add("large-values", 14, "float32", (4, 64), spread=1e4, note="values ~1e4: mean(x²) ~ 1e8, no overflow in float32")
    add("large-values-float64", 15, "float64", (3, 16), spread=1e30)
    add("noncontiguous", 16, "float32", (3, 4, 16), noncontig=("x", "weight"),
        note="x and weight are non-contiguous views")
    add("noncontiguous-float64", 17, "float64", (2, 8), noncontig=("x",))
    for i, shape in enumerate([(7, 3), (1, 1, 5), (2, 2, 2, 6)]):
        add(f"random-shape-{i}", 20 + i, "float32" if i % 2 == 0 else "float64", shape)

    g = torch.Generator().manual_seed(30)
    x = torch.randn(3, 8, generator=g)
    x[1] = 0.0
    out.append(make_case("zero-row", {"x": x, "weight": torch.randn(8, generator=g),
                                      "_upstream": torch.randn(3, 8, generator=g)},
                         seed=30, dtype="float32", grad=("x", "weight"),
                         note="row 1 is all zeros: output 0, gradient w.r.t. x is upstream * weight / sqrt(eps)"))
    return out
