"""Cases for rotary position embedding in the interleaved layout (pairs 2i, 2i+1)."""

from drillcli.fixtures import Case, make_case

RETURNS = ("out",)
REFERENCE_DTYPE = "float64"


def _half_split(x, positions=None, base=10000.0):
    """RoPE rotating the pairs (i, i + d/2): the other layout (GPT-NeoX, Hugging Face rotate_half)."""
    import torch

    L, d = x.shape[-2:]
    positions = torch.arange(L) if positions is None else positions
    angles = positions.to(torch.float64)[..., None] * base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
    cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
    x1, x2 = x[..., : d // 2], x[..., d // 2 :]
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


NEAR_MISSES = {
    "half-split": ("your output matches RoPE in the half-split layout (pairs (i, i + d/2), rotate_half); this "
                   "problem uses the interleaved layout, pairs (2i, 2i + 1) (see the prompt)", _half_split),
}


def cases() -> list[Case]:
    import torch

    out: list[Case] = []

    def add(name, seed, dtype, shape, positions=None, base=None, scale=1.0, grad=False, noncontig=(), note=""):
        g = torch.Generator().manual_seed(seed)
        x = scale * torch.randn(*shape, generator=g, dtype=torch.float64)
        dt = getattr(torch, dtype)
        inputs = {"x": x.to(dt)}
        if positions is not None or base is not None:
            inputs["positions"] = positions(g) if callable(positions) else positions
        if base is not None:
            inputs["base"] = base
        if grad:
            inputs["_upstream"] = torch.randn(*shape, generator=g, dtype=torch.float64).to(dt)
        out.append(make_case(name, inputs, seed=seed, dtype=dtype, grad=("x",) if grad else (),
                             noncontig=tuple(noncontig), note=note))

    out.append(make_case("readable-d4", {"x": torch.tensor([[1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0]])},
                         dtype="float32", note="the example of the prompt: position 0 unchanged, position 1 "
                                               "rotates pair (x0, x1) by 1 rad and pair (x2, x3) by 0.01 rad"))
    out.append(make_case("readable-d2-positions", {
        "x": torch.tensor([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]), "positions": torch.tensor([0, 1, 2, 1])},
        dtype="float32", note="d = 2 (a single pair, frequency 1): (1, 0) at position p becomes (cos p, sin p); "
                              "(0, 1) at position 1 becomes (-sin 1, cos 1)"))
    add("single-pair", 1, "float32", (5, 2), note="d = 2: one pair, angle = position")
    add("length-1", 2, "float32", (3, 1, 8), note="L = 1 at position 0: the output equals the input")
    add("length-1-at-position-7", 3, "float32", (2, 1, 8), positions=torch.tensor([7]),
        note="one token decoded at position 7 (a KV-cache step)")
    add("seq", 4, "float32", (6, 8))
    add("batch-heads", 5, "float32", (2, 3, 5, 8), note="x is (B, H, L, d): positions apply to the L axis")
    add("batch-heads-head-dim-64", 6, "float32", (1, 2, 9, 64))
    add("offset-positions", 7, "float32", (2, 4, 16), positions=torch.arange(100, 104),
        note="positions 100..103 (continuing after a cached prefix), not 0..3")
    add("unsorted-repeated-positions", 8, "float32", (3, 6, 8), positions=torch.tensor([5, 0, 3, 3, 1, 9]),
        note="positions in any order, some repeated: row t uses positions[t]")
    add("base-500000", 9, "float32", (2, 5, 16), base=500000.0, note="LLaMA-3 base theta = 500000")
    add("base-100", 10, "float32", (2, 5, 16), base=100.0, note="a small base: the low-frequency pairs turn visibly")
    add("float64", 11, "float64", (2, 7, 16))
    add("float64-heads-positions", 12, "float64", (2, 2, 5, 32), positions=torch.tensor([3, 1, 4, 1, 5]))
    add("float64-large-positions", 13, "float64", (4, 32), positions=torch.tensor([0, 4095, 65536, 1000003]),
        note="positions up to 10^6: float64 input must keep float64 accuracy in the angles")
    add("float32-positions-to-2048", 14, "float32", (6, 64), positions=torch.tensor([1, 17, 255, 1024, 2000, 2047]),
        note="large positions in float32: the angle p * base^(-2i/d) must not lose accuracy (sin/cos of "
             "angles near 2000 rad)")
    add("large-values", 15, "float32", (2, 4, 8), scale=1e3, note="|x| ~ 1000: rotation keeps the norm of each pair")
    add("noncontiguous", 16, "float32", (2, 3, 4, 8), noncontig=("x",),
        note="x is a non-contiguous view: x.view(...) fails, use reshape or slicing")
    add("noncontiguous-float64-positions", 17, "float64", (3, 5, 8), noncontig=("x", "positions"),
        positions=torch.tensor([2, 4, 6, 8, 10]), note="x and positions are non-contiguous views")
    add("grad", 18, "float32", (2, 4, 8), grad=True,
        note="gradient w.r.t. x (the rotation's transpose): no in-place writes into x, no detach")
    add("grad-float64", 19, "float64", (2, 3, 6, 16), positions=torch.arange(3, 9), grad=True)
    add("per-batch-positions", 21, "float32", (3, 4, 8), positions=torch.tensor([[0, 1, 2, 3], [5, 6, 7, 8], [0, 0, 1, 2]]),
        note="positions of shape (B, L) for x of shape (B, L, d): each batch row has its own positions "
             "(left padding, packed sequences)")
    add("per-batch-positions-heads", 22, "float64", (2, 3, 4, 8), positions=torch.tensor([[[0, 1, 2, 3]], [[9, 10, 11, 12]]]),
        note="positions of shape (B, 1, L) broadcast over the heads of x (B, H, L, d)")
    add("empty-sequence", 20, "float32", (2, 0, 8), note="L = 0: an empty (2, 0, 8) tensor comes back")
    for i, (shape, dtype) in enumerate([((3, 10, 6), "float32"), ((1, 1, 2, 3, 12), "float64"),
                                        ((4, 128), "float32")]):
        add(f"random-shape-{i}", 30 + i, dtype, shape)
    return out
