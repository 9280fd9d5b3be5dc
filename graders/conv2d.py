"""Cases for conv2d: values against the reference (computed in float64), and gradients
w.r.t. x, weight and bias on some cases."""

from drillcli.fixtures import Case, make_case

RETURNS = ("out",)
REFERENCE_DTYPE = "float64"


def _out_size(size, k, s, p):
    return (size + 2 * p - k) // s + 1


def cases() -> list[Case]:
    import torch

    out: list[Case] = []

    def add(name, seed, dtype, n, cin, cout, hw, k, stride=1, padding=0, bias=True, grad=False,
            noncontig=(), scale=1.0, note=""):
        g = torch.Generator().manual_seed(seed)
        dt = getattr(torch, dtype)
        (h, w), (kh, kw) = hw, ((k, k) if isinstance(k, int) else k)
        x = (torch.randn(n, cin, h, w, generator=g, dtype=torch.float64) * scale).to(dt)
        wt = (torch.randn(cout, cin, kh, kw, generator=g, dtype=torch.float64) / (cin * kh * kw) ** 0.5).to(dt)
        b = torch.randn(cout, generator=g, dtype=torch.float64).to(dt) if bias else None
        inputs = {"x": x, "weight": wt, "bias": b, "stride": stride, "padding": padding}
        grads = ()
        if grad:
            sh, sw = (stride, stride) if isinstance(stride, int) else stride
            ph, pw = (padding, padding) if isinstance(padding, int) else padding
            shape = (n, cout, _out_size(h, kh, sh, ph), _out_size(w, kw, sw, pw))
            inputs["_upstream"] = torch.randn(*shape, generator=g, dtype=torch.float64).to(dt)
            grads = ("x", "weight", "bias") if bias else ("x", "weight")
        out.append(make_case(name, inputs, seed=seed, dtype=dtype, grad=grads, noncontig=tuple(noncontig), note=note))

    x = torch.arange(1.0, 17.0).reshape(1, 1, 4, 4)
    w = torch.tensor([[[[1.0, 2.0], [0.0, -1.0]]]])
    out.append(make_case("readable-example", {"x": x, "weight": w, "bias": torch.tensor([0.5]), "stride": 1, "padding": 0},
                         dtype="float32", note="the example of the prompt: an asymmetric kernel shows whether it is flipped"))
    out.append(make_case("readable-stride-padding", {"x": x, "weight": w, "bias": None, "stride": 2, "padding": 1},
                         dtype="float32", note="stride 2, padding 1, no bias: output 3x3"))
    out.append(make_case("readable-grad", {"x": x.clone(), "weight": w.clone(), "bias": torch.tensor([0.5]),
                                           "stride": 1, "padding": 1, "_upstream": torch.ones(1, 1, 5, 5)},
                         dtype="float32", grad=("x", "weight", "bias"), note="gradients with an all-ones upstream"))
    add("channels", 1, "float32", 2, 3, 4, (6, 6), 3, note="C_in = 3 != C_out = 4: weight is (C_out, C_in, kH, kW)")
    add("no-bias", 2, "float32", 2, 3, 2, (5, 7), 3, bias=False, note="bias = None")
    add("stride-2", 3, "float32", 2, 2, 3, (9, 9), 3, stride=2)
    add("stride-not-dividing", 4, "float32", 1, 2, 2, (8, 7), 3, stride=3, note="(H - kH) not a multiple of the stride: floor")
    add("padding-2", 5, "float32", 2, 2, 3, (5, 5), 3, padding=2, note="padding 2: output larger than the input")
    add("rect-kernel", 6, "float32", 2, 3, 2, (7, 8), (2, 4), note="kH = 2, kW = 4")
    add("tuple-stride-padding", 7, "float32", 2, 3, 4, (9, 10), (3, 2), stride=(2, 1), padding=(0, 1),
        note="stride (2, 1) and padding (0, 1): the first number is for H, the second for W")
    add("tuple-stride-padding-2", 8, "float32", 1, 2, 3, (8, 11), 3, stride=(1, 3), padding=(2, 1))
    add("pointwise-1x1", 9, "float32", 2, 5, 3, (4, 6), 1, note="1x1 kernel: a per-pixel linear map of channels")
    add("kernel-equals-input", 10, "float32", 3, 2, 4, (5, 5), 5, note="kernel as large as the input: output 1x1")
    add("single-pixel-input", 11, "float32", 2, 3, 2, (1, 1), 1)
    add("stride-larger-than-kernel", 12, "float32", 1, 2, 2, (9, 9), 2, stride=3, note="stride 3, kernel 2: pixels skipped")
    add("float64", 13, "float64", 2, 3, 4, (7, 7), 3, padding=1)
    add("float64-rect", 14, "float64", 1, 4, 2, (6, 9), (3, 1), stride=(1, 2), padding=(1, 0))
    add("large-values", 15, "float32", 2, 3, 3, (6, 6), 3, padding=1, scale=1e3, note="inputs in the thousands")
    add("wider", 16, "float32", 2, 8, 8, (16, 16), 3, padding=1, note="8 channels in and out, 16x16")
    add("noncontiguous", 17, "float32", 2, 3, 4, (6, 6), 3, padding=1, noncontig=("x", "weight", "bias"),
        note="x, weight and bias are non-contiguous views")
    add("grad", 18, "float32", 2, 3, 4, (6, 6), 3, stride=1, padding=1, grad=True,
        note="gradients w.r.t. x, weight and bias: keep the computation in autograd")
    add("grad-stride-padding", 19, "float64", 2, 2, 3, (7, 8), (3, 2), stride=(2, 3), padding=(1, 2), grad=True)
    add("grad-no-bias", 20, "float32", 1, 3, 2, (5, 5), 2, stride=2, bias=False, grad=True)
    add("grad-noncontiguous", 21, "float64", 2, 2, 2, (5, 6), 3, padding=1, grad=True, noncontig=("x", "weight"))
    return out
