"""Cases for absmax int8 quantization. The entry is `quantize_int8`; the run hook also calls
`dequantize_int8` from the same file on the user's own (q, scale).

Random inputs keep every x / scale at least 2e-3 away from a rounding tie (k + 0.5), so any
correct formulation (x / scale, x * 127 / absmax, float64 or float32) rounds the same way;
the tie cases use scales that are powers of two, where every formulation is exact."""

import sys

from drillcli.fixtures import Case, make_case

RETURNS = ("q", "scale", "x_hat")
REFERENCE_DTYPE = "float64"


def run(entry, kind, case, names):
    from drillcli.harness import WrongReturn, build_inputs, check_inputs_unchanged, unpack

    dequantize = getattr(sys.modules.get(entry.__module__), "dequantize_int8", None)
    if not callable(dequantize):
        raise WrongReturn("your file must define dequantize_int8(q, scale) next to quantize_int8")
    args, named, _ = build_inputs(case)
    q, scale = unpack(entry(*args), ["q", "scale"]).values()
    check_inputs_unchanged(case, named)
    return {"q": q, "scale": scale, "x_hat": dequantize(q, scale)}


def _away_from_ties(x, dim, dtype):
    """x cast to dtype, with entries whose x / scale lies within 2e-3 of k + 0.5 pulled inwards."""
    import torch

    x = x.to(dtype)
    for _ in range(50):
        xd = x.double()
        if dim is None:
            absmax = xd.abs().amax()
        else:
            absmax = xd.abs().amax(dim=[d for d in range(x.dim()) if d != dim % x.dim()], keepdim=True)
        t = xd / torch.where(absmax > 0, absmax / 127, torch.ones_like(absmax))
        near = ((t - t.floor()) - 0.5).abs() < 2e-3
        if not near.any():
            return x
        x = torch.where(near, (xd * 0.997).to(dtype), x)
    raise AssertionError("could not move the values away from rounding ties")


def cases() -> list[Case]:
    import torch

    out: list[Case] = []

    def case(name, x, dim=None, note="", seed=None, noncontig=()):
        inputs = {"x": x} if dim is None else {"x": x, "dim": dim}
        out.append(make_case(name, inputs, seed=seed, dtype=str(x.dtype).removeprefix("torch."), note=note,
                             noncontig=tuple(noncontig)))

    def add(name, seed, dtype, shape, dim=None, scale=1.0, note="", noncontig=(), channel_scales=False):
        g = torch.Generator().manual_seed(seed)
        x = torch.randn(shape, generator=g, dtype=torch.float64) * scale
        if channel_scales:   # channels of very different magnitudes: per-channel scales matter
            d = dim % len(shape)
            mags = 10.0 ** torch.linspace(-3, 2, shape[d], dtype=torch.float64)
            x = x * mags.reshape([-1 if i == d else 1 for i in range(len(shape))])
        case(name, _away_from_ties(x, dim, dtype), dim, note, seed, noncontig)

    f32, f64 = torch.float32, torch.float64
    w = torch.tensor([[0.5, -1.27, 0.02], [3.0, 0.3, -0.7]])
    case("readable-per-tensor", w, note="the example of the prompt: one scale 3.0 / 127")
    case("readable-per-channel", w, 0, note="the example of the prompt: one scale per row (dim=0)")
    case("readable-per-column", w, 1, note="dim=1: one scale per column, absmax over the rows")
    case("ties-half-to-even", torch.tensor([2.5, 3.5, -2.5, -3.5, 0.5, -0.5, 1.5, 126.5, -127.0]),
         note="absmax 127 makes scale exactly 1: x / scale hits k + 0.5 exactly; round half to even")
    case("ties-per-channel", torch.tensor([[0.25, -0.75, 63.5, 1.25], [7.5, -4.5, 0.5, -127.0]]), 0,
         note="scales 0.5 and 1 (exact): ties round half to even in every channel")
    case("negative-absmax", torch.tensor([[-4.0, 1.0, 2.0], [0.1, -0.2, -9.0]]), 0,
         note="each row's largest magnitude is negative: take abs before the max")
    add("weight-per-row", 1, f32, (8, 16), 0, note="a linear layer's weight, one scale per output row")
    add("weight-per-tensor", 2, f32, (8, 16))
    add("channels-of-many-magnitudes", 3, f32, (6, 10), 0, channel_scales=True,
        note="rows from 1e-3 to 1e2: a per-tensor scale would zero the small rows, per-channel must not")
    add("per-tensor-many-magnitudes", 4, f32, (6, 10), None, scale=1.0,
        note="per-tensor: small entries round to 0, that is expected")
    add("last-dim-negative", 5, f32, (4, 5, 6), -1, note="dim=-1: one scale per last-axis index")
    add("conv-weight-dim0", 6, f32, (4, 3, 3, 3), 0, note="(out, in, kh, kw): absmax over three axes")
    add("middle-dim", 7, f64, (3, 5, 4), 1, note="dim=1 of a 3-D tensor")
    add("float64-per-tensor", 8, f64, (5, 7), scale=3.0)
    add("float64-per-channel", 9, f64, (7, 5), 1, channel_scales=True)
    add("large-values", 10, f32, (4, 8), 0, scale=1e4, note="values around 1e4")
    add("tiny-values", 11, f32, (4, 8), scale=1e-6, note="values around 1e-6: the scale is tiny, not zero")
    z = torch.randn(3, 4, generator=torch.Generator().manual_seed(12))
    z[1] = 0.0
    case("zero-channel", _away_from_ties(z, 0, f32), 0, seed=12,
         note="row 1 is all zeros: its scale is 1.0 and its codes 0 (no 0 / 0)")
    case("all-zero-tensor", torch.zeros(2, 3), note="all zeros, per-tensor: scale 1.0")
    add("vector", 13, f32, (33,))
    add("scalar", 14, f32, (), note="a 0-dim tensor: q = +-127, scale = |x| / 127")
    add("one-channel-per-column", 15, f32, (1, 6), 1, note="dim=1 with one row: every entry is its own channel")
    add("noncontiguous", 16, f32, (6, 8), 0, noncontig=("x",), note="x is a non-contiguous view")
    add("noncontiguous-per-tensor", 17, f64, (5, 3), noncontig=("x",))
    for i, (shape, dim) in enumerate([((3, 7), 1), ((2, 2, 9), None), ((5, 4, 2), 2)]):
        add(f"random-{i}", 20 + i, f32 if i % 2 == 0 else f64, shape, dim, scale=2.0)
    return out
