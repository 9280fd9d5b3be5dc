"""Cases for huber-loss: F.huber_loss(input, target, reduction, delta), values and gradients."""

from drillcli.fixtures import Case, make_case

RETURNS = ("loss",)
REFERENCE_DTYPE = "float64"


def _smooth_l1(input, target, delta=1.0, reduction="mean"):
    """Smooth L1 with beta = delta: the Huber loss divided by delta."""
    import torch

    r = (input - target).abs()
    loss = torch.where(r < delta, 0.5 * r ** 2 / delta, r - 0.5 * delta)
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


NEAR_MISSES = {
    "smooth-l1": ("your output matches smooth L1 with beta = delta (F.smooth_l1_loss, the Huber loss divided by "
                  "delta); this problem is the Huber loss, 0.5 r^2 inside and delta * (|r| - 0.5 delta) outside "
                  "(see the prompt)", _smooth_l1),
}


def cases() -> list[Case]:
    import torch

    out: list[Case] = []
    f64 = torch.float64

    def add(name, x, y, delta=1.0, reduction="mean", seed=None, note="", grad=False, noncontig=(), upstream_seed=0):
        inputs = {"input": x, "target": y.to(x.dtype), "delta": delta, "reduction": reduction}
        if grad:
            g = torch.Generator().manual_seed(2000 + upstream_seed)
            shape = x.shape if reduction == "none" else ()
            inputs["_upstream"] = torch.randn(shape, generator=g, dtype=f64).to(x.dtype)
        out.append(make_case(name, inputs, seed=seed, dtype=str(x.dtype).removeprefix("torch."), note=note,
                             grad=("input", "target") if grad else (), noncontig=tuple(noncontig)))

    def rand(seed, shape, dtype=torch.float32, scale=2.0):
        g = torch.Generator().manual_seed(seed)
        x = torch.randn(shape, generator=g, dtype=f64) * scale
        y = torch.randn(shape, generator=g, dtype=f64) * scale
        return x.to(dtype), y.to(dtype)

    x = torch.tensor([0.0, 0.5, 1.0, 2.0, -3.0])
    y = torch.tensor([0.0, 0.0, 0.0, 0.0, 0.0])
    add("readable-5", x, y, reduction="none", note="the example of the prompt (delta 1): residuals 0, 0.5, 1, 2, -3")
    add("readable-5-mean", x, y, note="the example of the prompt, mean")
    add("readable-5-sum", x, y, reduction="sum")
    add("readable-delta-2", x, y, delta=2.0, reduction="none",
        note="delta 2: quadratic up to |r| = 2, then 2 * (|r| - 1); smooth L1 would divide the quadratic by 2")
    add("boundary-exact", torch.tensor([-0.5, 0.5, 0.25, -0.25, 0.75]), torch.zeros(5), delta=0.5, reduction="none",
        note="residuals exactly +-delta (0.5): both pieces give 0.125")
    add("small-delta", *rand(1, (6, 4)), delta=0.1, reduction="none", seed=1, note="delta 0.1: almost all linear")
    add("large-delta", *rand(2, (6, 4)), delta=10.0, reduction="none", seed=2, note="delta 10: all quadratic")
    add("delta-2.5-mean", *rand(3, (5, 5)), delta=2.5, seed=3)
    add("batch-3d", *rand(4, (2, 3, 4)), seed=4, note="(2, 3, 4): mean over every element")
    add("batch-3d-sum", *rand(5, (2, 3, 4)), delta=0.7, reduction="sum", seed=5)
    add("float64", *rand(6, (7, 3), f64), delta=1.5, reduction="none", seed=6)
    add("float64-mean", *rand(7, (4, 8), f64), seed=7)
    add("negative-residuals", torch.tensor([-5.0, -1.5, -0.2, -0.9]), torch.zeros(4), delta=1.0, reduction="none",
        note="residuals all negative: the linear branch needs |r|, not r")
    add("target-minus-input", torch.zeros(4), torch.tensor([3.0, -0.3, 1.2, -2.0]), delta=1.0, reduction="none",
        note="input 0, target nonzero: the loss is symmetric in the residual")
    add("large-residuals", *rand(8, (4, 4), scale=1e4), delta=1.0, seed=8, note="residuals ~1e4: linear region")
    add("huge-residuals", torch.tensor([1e20, -1e20, 3.0, 0.1]), torch.zeros(4), delta=1.0, reduction="none",
        note="residuals 1e20 in float32: 0.5 r^2 overflows, the linear branch does not")
    add("huge-residuals-sum", torch.tensor([[2e19, 0.5], [-4e19, 1.5]]), torch.tensor([[0.0, 0.0], [1.0, -1.0]]),
        delta=2.0, reduction="sum", note="residuals ~1e19 in float32 with delta 2: the sum stays finite")
    add("huge-target", torch.zeros(4), torch.tensor([-1e20, 1e20, 0.5, -2.0]), delta=1.0, reduction="none",
        note="the huge values in target alone: residuals -1e20 .. 1e20, linear branch, finite")
    add("huge-input-and-target", torch.tensor([3e19, -1e20, 1e20, 5.0]), torch.tensor([-5e19, -1e20 + 1e13, 1e20, -1e20]),
        delta=0.5, reduction="sum", note="input and target both ~1e20: residuals from 0 to 1e20, the sum stays finite")
    add("tiny-residuals", *rand(9, (10,), scale=1e-4), delta=1.0, seed=9, reduction="none", note="all quadratic, values ~1e-9")
    add("single-element", torch.tensor([2.5]), torch.tensor([1.0]), delta=1.0, reduction="none")
    add("scalar-0d", torch.tensor(3.0), torch.tensor(0.5), delta=2.0, note="0-dim input and target")
    add("empty-sum", torch.zeros(0), torch.zeros(0), reduction="sum", note="no elements: the sum is 0")
    add("empty-none", torch.zeros(0, 2), torch.zeros(0, 2), reduction="none")
    add("noncontiguous", *rand(10, (5, 6)), delta=0.8, seed=10, reduction="none", noncontig=("input", "target"),
        note="input and target are non-contiguous views")
    add("grad-mean", *rand(11, (4, 5)), seed=11, grad=True, note="gradients w.r.t. input and target of the mean loss")
    add("grad-none-delta-0.5", *rand(12, (3, 6)), delta=0.5, reduction="none", seed=12, grad=True, upstream_seed=1,
        note="gradient is r in the quadratic piece, delta * sign(r) in the linear one")
    add("grad-float64-sum", *rand(13, (4, 4), f64), delta=1.3, reduction="sum", seed=13, grad=True, upstream_seed=2)
    add("grad-zero-residual", torch.tensor([1.0, 2.0, -1.0]), torch.tensor([1.0, 0.0, 1.0]), delta=1.0,
        reduction="none", grad=True, upstream_seed=3, note="r = 0 has gradient 0; r = -2 is on the linear piece")
    return out
