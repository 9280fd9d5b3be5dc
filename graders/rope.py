"""Cases for RoPE (half-split layout)."""

from drillcli.fixtures import Case, make_case

RETURNS = ("out",)
REFERENCE_DTYPE = "float64"


def _interleaved(x, positions=None, base=10000.0):
    """RoPE rotating adjacent pairs (2i, 2i + 1): the other layout."""
    import torch

    L, d = x.shape[-2:]
    positions = torch.arange(L) if positions is None else positions
    angles = positions.to(torch.float64)[..., None] * base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
    cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
    x1, x2 = x[..., 0::2], x[..., 1::2]
    return torch.stack([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1).flatten(-2)


NEAR_MISSES = {
    "interleaved": ("your output matches RoPE in the interleaved-pairs layout (2i, 2i + 1); this problem uses "
                    "the half-split layout (i, i + d/2) (see the prompt)", _interleaved),
}


def cases() -> list[Case]:
    import torch

    out: list[Case] = []

    def add(name, seed, dtype, shape, positions="default", base=None, noncontig=(), note=""):
        g = torch.Generator().manual_seed(seed)
        x = torch.randn(*shape, generator=g, dtype=torch.float64).to(getattr(torch, dtype))
        inputs = {"x": x}
        if positions != "default" or base is not None:
            inputs["positions"] = None if positions == "default" else positions
        if base is not None:
            inputs["base"] = base
        out.append(make_case(name, inputs, seed=seed, dtype=dtype, noncontig=noncontig, note=note))

    out.append(make_case("readable-d4", {"x": torch.tensor([[1.0, 2.0, 3.0, 4.0]]), "positions": torch.tensor([1])},
                         dtype="float32", note="the example of the prompt: position 1, frequencies [1, 0.01]"))
    out.append(make_case("readable-positions-0-1-2", {"x": torch.ones(3, 4)}, dtype="float32",
                         note="positions default to arange(L); position 0 leaves x unchanged"))
    add("single-sequence", 1, "float32", (6, 8))
    add("batch", 2, "float32", (2, 5, 16))
    add("batch-heads", 3, "float32", (2, 4, 7, 32))
    add("d-equals-2", 4, "float32", (3, 5, 2), note="a single pair: plain 2-D rotation by the position")
    add("head-dim-128", 5, "float32", (1, 2, 8, 128))
    add("explicit-arange", 6, "float32", (2, 6, 16), positions=torch.arange(6))
    add("cache-offset", 7, "float32", (2, 4, 3, 16), positions=torch.arange(100, 103),
        note="decoding after a cache of 100 tokens: positions start at 100")
    add("single-token-decode", 8, "float32", (2, 2, 1, 16), positions=torch.tensor([37]))
    add("per-batch-positions", 9, "float32", (2, 5, 8), positions=torch.tensor([[0, 1, 2, 3, 4], [7, 8, 9, 10, 11]]),
        note="positions of shape (B, L): each batch row has its own offset")
    add("per-batch-positions-heads", 24, "float32", (2, 3, 5, 8),
        positions=torch.tensor([[3, 4, 5, 6, 7], [0, 1, 2, 3, 4]])[:, None, :],
        note="positions of shape (B, 1, L) broadcast over the heads of x (B, H, L, d)")
    add("per-batch-positions-float64", 25, "float64", (3, 4, 8), positions=torch.tensor([[0, 1, 2, 3], [5, 6, 7, 8], [20, 40, 60, 80]]))
    add("unsorted-positions", 10, "float32", (4, 8), positions=torch.tensor([3, 0, 2, 9]))
    add("base-500000", 11, "float32", (2, 6, 32), base=500000.0, note="LLaMA 3's base")
    add("base-100", 12, "float32", (2, 6, 16), positions=None, base=100.0, note="a small base, passed with positions=None")
    add("long-positions", 13, "float32", (1, 2048 // 64, 64), positions=torch.arange(0, 2048, 64),
        note="positions up to 2048")
    add("float64", 14, "float64", (2, 3, 8, 16))
    add("float64-huge-positions", 15, "float64", (2, 4, 32), positions=torch.tensor([0, 1000, 50000, 99999]),
        note="float64 keeps angles exact to ~1e-11 even at position 1e5")
    add("float64-base", 16, "float64", (3, 5, 8), positions=torch.arange(5) * 3, base=2.0)
    add("noncontiguous", 17, "float32", (2, 3, 5, 16), noncontig=("x",), note="x is a non-contiguous view")
    add("noncontiguous-float64", 18, "float64", (4, 6, 8), noncontig=("x",))
    add("length-1", 19, "float32", (3, 1, 8), note="L = 1: position 0, output equals input")
    for i, shape in enumerate([(5, 3, 6), (2, 2, 2, 4, 10), (9, 24)]):
        add(f"random-shape-{i}", 20 + i, "float32" if i != 1 else "float64", shape)
    return out
