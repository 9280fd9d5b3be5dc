"""Cases for SwiGLU (LLaMA layout: w1 gate, w3 up, w2 down, no biases)."""

from drillcli.fixtures import Case, make_case

RETURNS = ("out",)
REFERENCE_DTYPE = "float64"


def _silu_on_up(d_model, d_ff):
    """SwiGLU with silu on w3(x), the up projection, instead of the gate w1(x)."""
    import torch.nn.functional as F
    from torch import nn

    class SwiGLU(nn.Module):
        def __init__(self):
            super().__init__()
            self.w1 = nn.Linear(d_model, d_ff, bias=False)
            self.w3 = nn.Linear(d_model, d_ff, bias=False)
            self.w2 = nn.Linear(d_ff, d_model, bias=False)

        def forward(self, x):
            return self.w2(self.w1(x) * F.silu(self.w3(x)))

    return SwiGLU()


NEAR_MISSES = {
    "silu-on-up": ("your output matches silu applied to w3(x), the up projection; this problem applies it to the "
                   "gate w1(x) (gate_proj), times w3(x) (see the prompt)", _silu_on_up),
}


def cases() -> list[Case]:
    import torch

    f32, f64 = torch.float32, torch.float64
    out: list[Case] = []

    def add(name, seed, dtype, lead, d_model, d_ff, x_scale=1.0, gate_scale=1.0, grad=False,
            noncontig=(), note=""):
        g = torch.Generator().manual_seed(seed)
        x = x_scale * torch.randn(*lead, d_model, generator=g, dtype=f64)
        w1 = gate_scale * torch.randn(d_ff, d_model, generator=g, dtype=f64) / d_model ** 0.5
        w3 = torch.randn(d_ff, d_model, generator=g, dtype=f64) / d_model ** 0.5
        w2 = torch.randn(d_model, d_ff, generator=g, dtype=f64) / d_ff ** 0.5
        inputs = {"x": x.to(dtype), "state.w1.weight": w1.to(dtype), "state.w2.weight": w2.to(dtype),
                  "state.w3.weight": w3.to(dtype)}
        if grad:
            inputs["_upstream"] = torch.randn(*lead, d_model, generator=g, dtype=f64).to(dtype)
        out.append(make_case(name, inputs, seed=seed, dtype=str(dtype).removeprefix("torch."),
                             init={"d_model": d_model, "d_ff": d_ff}, grad=("x",) if grad else (),
                             noncontig=tuple(noncontig), note=note))

    out.append(make_case("readable", {
        "x": torch.tensor([[1.0, -1.0]]),
        "state.w1.weight": torch.tensor([[1.0, 0.0], [0.0, 2.0], [1.0, -1.0]]),
        "state.w2.weight": torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, -1.0]]),
        "state.w3.weight": torch.tensor([[2.0, 0.0], [1.0, -1.0], [0.5, 1.0]])},
        dtype="float32", init={"d_model": 2, "d_ff": 3}, note="the example of the prompt"))
    out.append(make_case("readable-gate-vs-up", {
        "x": torch.tensor([[3.0, -3.0]]),
        "state.w1.weight": torch.tensor([[1.0, 0.0], [0.0, 1.0]]),
        "state.w2.weight": torch.eye(2),
        "state.w3.weight": torch.tensor([[0.0, 1.0], [1.0, 0.0]])},
        dtype="float32", init={"d_model": 2, "d_ff": 2},
        note="w1 (gate) and w3 (up) differ: silu must be applied to w1(x), not to w3(x)"))
    add("vector", 1, f32, (), 4, 8, note="a single vector x of shape (d_model,), no batch dimension")
    add("batch", 2, f32, (3,), 8, 16)
    add("batch-seq", 3, f32, (2, 5), 8, 24)
    add("llama-hidden-size", 4, f32, (2, 4), 12, 32,
        note="d_ff = 32 = 2/3 * 4 * 12 rounded up to a multiple of 8, as LLaMA sizes it")
    add("float64", 5, f64, (3, 4), 16, 40)
    add("float64-4d", 6, f64, (2, 2, 3), 8, 16, note="x with three leading dimensions")
    add("d-ff-smaller", 7, f32, (2, 3), 12, 4, note="d_ff < d_model")
    add("d-ff-1", 8, f64, (2, 3), 5, 1, note="a single hidden unit")
    add("large-gate", 9, f32, (2, 4), 8, 16, x_scale=10.0, gate_scale=10.0,
        note="gate pre-activations in the hundreds: silu written as x * exp(x) / (1 + exp(x)) gives inf/inf = NaN")
    add("large-gate-float64", 10, f64, (2, 4), 8, 16, x_scale=30.0, gate_scale=30.0,
        note="gate pre-activations near +-1000 in float64: exp() overflows there too")
    add("small-values", 11, f32, (2, 3), 8, 16, x_scale=1e-3, note="tiny inputs: silu(a) ~ a / 2, output ~ 1e-6")
    add("grad", 12, f32, (2, 3), 6, 12, grad=True, note="gradient w.r.t. x")
    add("grad-float64", 13, f64, (2, 3), 6, 10, grad=True, note="gradient w.r.t. x")
    add("noncontiguous", 14, f32, (2, 3), 8, 16, noncontig=("x",), note="x is a non-contiguous view")
    add("noncontiguous-float64", 15, f64, (4,), 6, 8, noncontig=("x",))
    add("seq-1", 16, f32, (1, 1), 8, 16, note="batch 1, sequence length 1")
    add("wide", 17, f32, (2, 2), 64, 172, note="d_model 64, d_ff 172 (LLaMA-style non-power-of-two width)")
    for i, (lead, d_model, d_ff) in enumerate([((3,), 5, 7), ((2, 7), 16, 24), ((4, 1), 3, 12)]):
        add(f"random-shapes-{i}", 20 + i, f32 if i % 2 == 0 else f64, lead, d_model, d_ff)
    return out
