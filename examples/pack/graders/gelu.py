"""Cases for extras/gelu. No torch import at module level: the parent imports this module."""

from drillcli.fixtures import Case, make_case

RETURNS = ("out",)
REFERENCE_DTYPE = "float64"


def _tanh_form(x, approximate="none"):
    """The tanh approximation whatever `approximate` asks."""
    import math

    import torch

    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def _sigmoid_form(x, approximate="none"):
    """The sigmoid approximation x * sigmoid(1.702 x) whatever `approximate` asks."""
    import torch

    return x * torch.sigmoid(1.702 * x)


NEAR_MISSES = {
    "tanh-for-none": ("your output matches the tanh approximation 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) "
                      "where approximate=\"none\" asks for the exact GELU, x * Phi(x) = 0.5 x (1 + erf(x / sqrt(2))) "
                      "(see the prompt)", _tanh_form),
    "sigmoid-approximation": ("your output matches the sigmoid approximation x * sigmoid(1.702 x); this problem asks "
                              "for the exact erf GELU (approximate=\"none\") or the tanh form (approximate=\"tanh\") "
                              "(see the prompt)", _sigmoid_form),
}


def cases() -> list[Case]:
    import torch

    f32, f64 = torch.float32, torch.float64
    out: list[Case] = []

    def add(name, x, approximate=None, seed=None, grad=False, noncontig=False, note=""):
        inputs = {"x": x} | ({} if approximate is None else {"approximate": approximate})
        if grad:
            g = torch.Generator().manual_seed(1000 + (seed or 0))
            inputs["_upstream"] = torch.randn(x.shape, generator=g, dtype=f64).to(x.dtype)
        out.append(make_case(name, inputs, seed=seed, dtype=str(x.dtype).removeprefix("torch."), note=note,
                             grad=("x",) if grad else (), noncontig=("x",) if noncontig else ()))

    def randn(seed, shape, dtype, scale=1.0):
        g = torch.Generator().manual_seed(seed)
        return (scale * torch.randn(*shape, generator=g, dtype=f64)).to(dtype)

    # ---- readable ones: the example of the prompt ----
    readable = torch.tensor([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0])
    add("readable", readable, note="the example of the prompt, approximate left at its default \"none\": the exact "
                                   "erf GELU")
    add("readable-tanh", readable, "tanh", note="the example of the prompt with approximate=\"tanh\"")
    add("readable-none-explicit", readable, "none", note="approximate=\"none\" passed explicitly: the exact erf GELU")

    # ---- where the forms differ most: x in [-4, -1] ----
    add("negative-region", torch.linspace(-4.0, -1.0, 13), note="x in [-4, -1], where the tanh and sigmoid "
                                                                "approximations are furthest from the exact GELU")
    add("negative-region-tanh-float64", torch.linspace(-4.0, -1.0, 13, dtype=f64), "tanh",
        note="x in [-4, -1] with approximate=\"tanh\"")

    # ---- shapes and dtypes ----
    add("random-2d", randn(1, (4, 8), f32, 2.0), seed=1)
    add("random-2d-tanh", randn(2, (4, 8), f32, 2.0), "tanh", seed=2)
    add("batch-heads", randn(3, (2, 3, 4, 5), f32, 2.0), "none", seed=3)
    add("float64", randn(4, (64,), f64, 3.0), seed=4)
    add("float64-tanh", randn(5, (64,), f64, 3.0), "tanh", seed=5)
    add("negative-tail-float64", -torch.linspace(2.0, 9.0, 29, dtype=f64),
        note="x in [-9, -2]: outputs from -0.05 down to about -1e-18")
    add("0-d", torch.tensor(-0.75, dtype=f64), note="a 0-d tensor: the output is 0-d too")
    add("0-d-tanh", torch.tensor(1.25), "tanh", note="a 0-d tensor: the output is 0-d too")
    add("empty", torch.zeros(0, 4), "tanh", note="an empty tensor: return an empty tensor of the same shape")
    add("empty-none", torch.zeros(3, 0, dtype=f64), note="an empty tensor: return an empty tensor of the same shape")
    add("noncontiguous", randn(6, (3, 4, 5), f32, 2.0), "tanh", seed=6, noncontig=True,
        note="x is a non-contiguous view")
    add("noncontiguous-none-float64", randn(7, (4, 6), f64, 2.0), "none", seed=7, noncontig=True,
        note="x is a non-contiguous view")

    # ---- magnitudes ----
    big = torch.tensor([-1e4, -500.0, -60.0, -20.0, -9.0, 9.0, 20.0, 60.0, 500.0, 1e4])
    add("large-magnitude", big, note="|x| up to 1e4: GELU(x) -> x for large x and -> 0 for very negative x")
    add("large-magnitude-tanh", big, "tanh",
        note="|x| up to 1e4: the tanh argument is huge; tanh written with exp() overflows to inf / inf = NaN")
    add("large-magnitude-float64-tanh", big.to(f64) * 100, "tanh",
        note="|x| up to 1e6 in float64: x**3 is 1e18 and tanh saturates to +-1")
    add("large-magnitude-float64", big.to(f64) * 100, note="|x| up to 1e6 in float64, exact GELU")
    add("saturation-tanh", torch.linspace(-40.0, 40.0, 20).reshape(4, 5), "tanh",
        note="|x| up to 40: the tanh argument passes 88, where exp() overflows float32; torch.tanh saturates to +-1")
    add("tiny", randn(8, (3, 7), f32, 1e-6), seed=8, note="|x| around 1e-6: GELU(x) is about x / 2")
    add("tiny-tanh-float64", randn(9, (3, 7), f64, 1e-6), "tanh", seed=9, note="|x| around 1e-6: about x / 2")

    # ---- gradients ----
    add("grad", randn(10, (3, 5), f32, 2.0), seed=10, grad=True,
        note="gradient w.r.t. x of the exact GELU: Phi(x) + x * phi(x); keep the output on the autograd graph")
    add("grad-tanh-float64", randn(11, (4, 6), f64, 2.0), "tanh", seed=11, grad=True,
        note="gradient w.r.t. x of the tanh approximation")
    add("grad-none-float64", randn(12, (2, 9), f64, 2.5), "none", seed=12, grad=True,
        note="gradient w.r.t. x of the exact GELU, float64")

    for i, (shape, dtype, approximate) in enumerate([((5, 3, 2), f32, "tanh"), ((17,), f64, None), ((2, 1, 6), f32, "none")]):
        add(f"random-shapes-{i}", randn(20 + i, shape, dtype, 2.5), approximate, seed=20 + i)
    return out
