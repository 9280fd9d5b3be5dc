"""Cases for ffn: the gelu(x, approximate) function and the FeedForward module.

One problem, two entry points in the user's file: the spec's entry is the class
FeedForward; cases marked `_fn: gelu` call the file's `gelu` function instead (the
`run` hook finds it in the module that defines the entry).
"""

from typing import Any

from drillcli.fixtures import Case, make_case

RETURNS = ("out",)
REFERENCE_DTYPE = "float64"


def gelu(x, approximate="none"):
    """The tanh GELU whatever `approximate` asks: the gelu of the near miss "tanh-everywhere",
    named gelu because the run hook finds it by that name next to its entry, as in a user's file."""
    import math

    import torch

    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def _tanh_feed_forward(d_model, d_ff, approximate="none"):
    """FeedForward with the tanh GELU above (its gelu cases call that gelu too)."""
    from torch import nn

    class FeedForward(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(d_model, d_ff), nn.Linear(d_ff, d_model)

        def forward(self, x):
            return self.fc2(gelu(self.fc1(x)))

    return FeedForward()


NEAR_MISSES = {
    "tanh-everywhere": ("your output matches the tanh GELU (GPT-2's approximation) where the exact one is asked; "
                        "approximate=\"none\" is the exact erf GELU, x * Phi(x) (see the prompt)", _tanh_feed_forward),
}


def _gelu_function(entry: Any) -> Any:
    import sys

    from drillcli.harness import WrongReturn

    for name in (getattr(entry, "__module__", None), "submission"):
        fn = getattr(sys.modules.get(name or ""), "gelu", None)
        if callable(fn):
            return fn
    raise WrongReturn("your file must also define the function gelu(x, approximate='none')")


def run(entry: Any, kind: str, case: Case, names: list[str]) -> dict[str, Any]:
    from drillcli import harness

    if case.inputs.get("_fn") != "gelu":
        return harness.run_case(entry, kind, case, names)
    args, named, _ = harness.build_inputs(case)
    returned = harness.unpack(_gelu_function(entry)(*args), names)
    harness.check_inputs_unchanged(case, named)
    return {**returned, **harness.gradients(case, returned, named)}


def cases() -> list[Case]:
    import torch

    f32, f64 = torch.float32, torch.float64
    out: list[Case] = []

    def dname(dtype):
        return str(dtype).removeprefix("torch.")

    # ---- gelu(x, approximate) ----
    def gelu_case(name, x, approximate=None, seed=None, grad=False, noncontig=False, note=""):
        inputs = {"x": x}
        if approximate is not None:
            inputs["approximate"] = approximate
        inputs["_fn"] = "gelu"
        if grad:
            g = torch.Generator().manual_seed(1000 + (seed or 0))
            inputs["_upstream"] = torch.randn(x.shape, generator=g, dtype=f64).to(x.dtype)
        out.append(make_case(name, inputs, seed=seed, dtype=dname(x.dtype), note=note,
                             grad=("x",) if grad else (), noncontig=("x",) if noncontig else ()))

    def randn(seed, shape, dtype, scale=1.0):
        g = torch.Generator().manual_seed(seed)
        return (scale * torch.randn(*shape, generator=g, dtype=f64)).to(dtype)

    readable = torch.tensor([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0])
    gelu_case("gelu-readable", readable, note="the example of the prompt (approximate left at its default 'none')")
    gelu_case("gelu-readable-tanh", readable, "tanh", note="the example of the prompt, tanh approximation")
    gelu_case("gelu-readable-none-explicit", readable, "none", note="approximate='none' passed explicitly")
    gelu_case("gelu-2d", randn(1, (4, 8), f32), seed=1)
    gelu_case("gelu-batch-heads-tanh", randn(2, (2, 3, 4, 5), f32), "tanh", seed=2)
    gelu_case("gelu-float64", randn(3, (64,), f64, 3.0), seed=3)
    gelu_case("gelu-float64-tanh", randn(4, (64,), f64, 3.0), "tanh", seed=4,
              note="the tanh approximation differs from the exact GELU by up to ~5e-4")
    gelu_case("gelu-negative-tail-float64", -torch.linspace(2.0, 9.0, 29, dtype=f64),
              note="x in [-9, -2]: outputs from -0.05 down to ~1e-18; exact and tanh differ here")
    gelu_case("gelu-negative-tail-float64-tanh", -torch.linspace(2.0, 9.0, 29, dtype=f64), "tanh")
    big = torch.tensor([-1e4, -500.0, -60.0, -20.0, -9.0, 9.0, 20.0, 60.0, 500.0, 1e4])
    gelu_case("gelu-large-magnitude", big, seed=5,
              note="|x| up to 1e4: GELU(x) -> x for large x and -> 0 for very negative x")
    gelu_case("gelu-large-magnitude-tanh", big, "tanh",
              note="|x| up to 1e4: the tanh argument is huge; tanh built from exp() overflows to inf/inf = NaN")
    gelu_case("gelu-large-magnitude-float64-tanh", big.to(f64) * 100, "tanh",
              note="|x| up to 1e6 in float64: x**3 is 1e18, tanh saturates to +-1")
    gelu_case("gelu-tiny", randn(6, (3, 7), f32, 1e-6), seed=6, note="|x| ~ 1e-6: GELU(x) ~ x / 2")
    gelu_case("gelu-grad", randn(7, (3, 5), f32, 2.0), seed=7, grad=True,
              note="gradient w.r.t. x of the exact GELU: Phi(x) + x * phi(x)")
    gelu_case("gelu-grad-tanh-float64", randn(8, (4, 6), f64, 2.0), "tanh", seed=8, grad=True,
              note="gradient w.r.t. x of the tanh approximation")
    gelu_case("gelu-noncontiguous", randn(9, (3, 4, 5), f32, 2.0), "tanh", seed=9, noncontig=True,
              note="x is a non-contiguous view")
    gelu_case("gelu-0d", torch.tensor(0.75, dtype=f64), note="a 0-d tensor: the output is 0-d too")
    gelu_case("gelu-empty", torch.zeros(0, 4), "tanh", note="an empty tensor: return an empty tensor of the same shape")

    # ---- FeedForward(d_model, d_ff, approximate) ----
    def ffn_case(name, seed, dtype, lead, d_model, d_ff, approximate=None, x_scale=1.0, w_scale=1.0,
                 grad=False, noncontig=False, note=""):
        g = torch.Generator().manual_seed(seed)
        x = x_scale * torch.randn(*lead, d_model, generator=g, dtype=f64)
        w1 = w_scale * torch.randn(d_ff, d_model, generator=g, dtype=f64) / d_model ** 0.5
        b1 = w_scale * 0.5 * torch.randn(d_ff, generator=g, dtype=f64)
        w2 = torch.randn(d_model, d_ff, generator=g, dtype=f64) / d_ff ** 0.5
        b2 = 0.5 * torch.randn(d_model, generator=g, dtype=f64)
        inputs = {"x": x.to(dtype), "state.fc1.weight": w1.to(dtype), "state.fc1.bias": b1.to(dtype),
                  "state.fc2.weight": w2.to(dtype), "state.fc2.bias": b2.to(dtype)}
        if grad:
            inputs["_upstream"] = torch.randn(*lead, d_model, generator=g, dtype=f64).to(dtype)
        init = {"d_model": d_model, "d_ff": d_ff} | ({"approximate": approximate} if approximate else {})
        out.append(make_case(name, inputs, seed=seed, dtype=dname(dtype), init=init, note=note,
                             grad=("x",) if grad else (), noncontig=("x",) if noncontig else ()))

    out.append(make_case("ffn-readable", {
        "x": torch.tensor([[1.0, -2.0]]),
        "state.fc1.weight": torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]),
        "state.fc1.bias": torch.tensor([0.0, 0.5, -1.0]),
        "state.fc2.weight": torch.tensor([[1.0, 1.0, 1.0], [0.5, -1.0, 2.0]]),
        "state.fc2.bias": torch.tensor([0.0, 1.0])},
        dtype="float32", init={"d_model": 2, "d_ff": 3}, note="the FeedForward example of the prompt"))
    ffn_case("ffn-vector", 20, f32, (), 4, 8, note="a single vector x of shape (d_model,), no batch dimension")
    ffn_case("ffn-batch-seq", 21, f32, (2, 5), 8, 32)
    ffn_case("ffn-tanh", 22, f32, (2, 5), 8, 32, approximate="tanh",
             note="FeedForward(..., approximate='tanh') (GPT-2) must use the tanh GELU")
    ffn_case("ffn-float64", 23, f64, (3, 4), 16, 64)
    ffn_case("ffn-float64-tanh", 24, f64, (3, 4), 16, 64, approximate="tanh")
    ffn_case("ffn-d-ff-smaller", 25, f32, (2, 3), 12, 5,
             note="d_ff < d_model: fc1 is (d_ff, d_model), fc2 is (d_model, d_ff)")
    ffn_case("ffn-large-preactivations", 26, f32, (2, 4), 8, 16, approximate="tanh", x_scale=10.0, w_scale=4.0,
             note="hidden pre-activations in the hundreds: tanh built from exp() overflows")
    ffn_case("ffn-grad", 27, f64, (2, 3), 6, 12, grad=True, note="gradient w.r.t. x through both layers")
    ffn_case("ffn-grad-tanh", 28, f32, (2, 3), 6, 12, approximate="tanh", grad=True)
    ffn_case("ffn-noncontiguous", 29, f32, (2, 3), 8, 16, noncontig=True, note="x is a non-contiguous view")
    ffn_case("ffn-seq-1", 30, f32, (1, 1), 8, 32, note="batch 1, sequence length 1")
    ffn_case("ffn-4d", 31, f64, (2, 2, 3), 4, 16, note="x with three leading dimensions")
    for i, (lead, d_model, d_ff) in enumerate([((3,), 5, 7), ((2, 7), 16, 24), ((4, 1), 3, 12)]):
        ffn_case(f"ffn-random-shapes-{i}", 40 + i, f32 if i % 2 == 0 else f64, lead, d_model, d_ff,
                 approximate="tanh" if i == 1 else None)
    return out
