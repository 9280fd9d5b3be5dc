"""Cases for batch normalization with running statistics. Each case is a sequence of
steps on one module: the grader builds it with `init`, loads weight and bias, then for
every step sets train() or eval() and calls it on that step's batch, recording the output
and the running statistics after the step. Each step also backpropagates the case's
upstream gradient through that step's output: in training mode the gradient w.r.t. x goes
through the batch mean and variance, in eval mode it does not."""

from functools import partial
from typing import Any

from drillcli.fixtures import Case, make_case

RETURNS = ("out", "running_mean", "running_var", "grad_x", "grad_weight", "grad_bias")
REFERENCE_DTYPE = "float64"


def _variant(num_features, eps=1e-5, momentum=0.1, *, running_unbiased=True, normalise_unbiased=False, keras=False):
    """BatchNorm1d with one convention changed: the running variance updated with the biased
    batch variance, the batch normalised with the unbiased one, or Keras's momentum (the
    weight of the old running value)."""
    import torch
    from torch import nn

    class Variant(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight, self.bias = nn.Parameter(torch.ones(num_features)), nn.Parameter(torch.zeros(num_features))
            self.register_buffer("running_mean", torch.zeros(num_features))
            self.register_buffer("running_var", torch.ones(num_features))

        def forward(self, x):
            dims, shape = ((0,), (1, -1)) if x.dim() == 2 else ((0, 2), (1, -1, 1))
            if self.training:
                mean, n = x.mean(dim=dims), x.numel() // x.shape[1]
                biased = x.var(dim=dims, unbiased=False)
                unbiased = biased * n / (n - 1)
                new = momentum if not keras else 1 - momentum   # the weight of the batch statistic
                with torch.no_grad():
                    self.running_mean.mul_(1 - new).add_(new * mean)
                    self.running_var.mul_(1 - new).add_(new * (unbiased if running_unbiased else biased))
                var = unbiased if normalise_unbiased else biased
            else:
                mean, var = self.running_mean, self.running_var
            x_hat = (x - mean.view(shape)) / torch.sqrt(var.view(shape) + eps)
            return x_hat * self.weight.view(shape) + self.bias.view(shape)

    return Variant()


NEAR_MISSES = {
    "running-var-biased": ("your output matches running_var updated with the biased batch variance; PyTorch, and "
                           "this problem, update it with the unbiased one, var * n / (n - 1) (see the prompt)",
                           partial(_variant, running_unbiased=False)),
    "normalises-unbiased": ("your output matches the batch normalised with the unbiased variance; this problem "
                            "normalises with the biased one (divide by n) and keeps the unbiased one for running_var "
                            "(see the prompt)", partial(_variant, normalise_unbiased=True)),
    "keras-momentum": ("your output matches Keras's momentum convention, running = momentum * running + "
                       "(1 - momentum) * batch; here momentum weighs the new batch statistic, as in PyTorch "
                       "(see the prompt)", partial(_variant, keras=True)),
}


def run(entry, kind, case, names) -> dict[str, Any]:
    import torch

    from drillcli.harness import WrongReturn, build_inputs, check_inputs_unchanged

    _, named, _ = build_inputs(case)
    xs, modes = named["x"], [bool(m) for m in case.inputs["_train"]]        # xs: (T, N, C[, L])
    module = entry(**case.init)
    if not isinstance(module, torch.nn.Module):
        raise WrongReturn(f"{entry.__name__} must subclass torch.nn.Module (it needs train() and eval())")
    for attr in ("weight", "bias", "running_mean", "running_var"):
        if not isinstance(getattr(module, attr, None), torch.Tensor):
            raise WrongReturn(f"{entry.__name__} has no tensor attribute '{attr}'")
    module = module.to(xs.dtype)
    with torch.no_grad():
        module.weight.copy_(named["_weight"])
        module.bias.copy_(named["_bias"])
    upstream = named["_upstream"]                                              # (T, N, C[, L])
    rec: dict[str, list] = {name: [] for name in RETURNS}
    for t, train in enumerate(modes):
        module.train(train)
        x = xs[t].detach().requires_grad_(True)
        y = module(x)
        if not isinstance(y, torch.Tensor):
            raise WrongReturn(f"forward must return a tensor, got {type(y).__name__}")
        if not y.requires_grad:
            raise WrongReturn("the output is not connected to the autograd graph "
                              "(gradients are checked: avoid .detach() and torch.no_grad() on the output path)")
        rec["out"].append(y.detach())
        rec["running_mean"].append(module.running_mean.detach().clone())
        rec["running_var"].append(module.running_var.detach().clone())
        y.backward(upstream[t])
        for name, tensor in (("grad_x", x), ("grad_weight", module.weight), ("grad_bias", module.bias)):
            rec[name].append(tensor.grad.detach().clone() if tensor.grad is not None else torch.zeros_like(tensor))
        module.weight.grad = module.bias.grad = None
    check_inputs_unchanged(case, named)
    return {name: torch.stack(values) for name, values in rec.items()}


def cases() -> list[Case]:
    import torch

    out: list[Case] = []

    def add(name, seed, dtype, shape, modes, eps=None, momentum=None, offset=0.0, spread=1.0, loc_scale=1.0,
            noncontig=False, note=""):
        g = torch.Generator().manual_seed(seed)
        c = shape[1]
        # per-channel centre: offset + loc_scale * N(0, 1); data: centre + spread * N(0, 1)
        loc = offset + loc_scale * torch.randn(1, c, *([1] * (len(shape) - 2)), generator=g, dtype=torch.float64)
        xs = loc + spread * torch.randn(len(modes), *shape, generator=g, dtype=torch.float64)
        weight = 1.0 + 0.5 * torch.randn(c, generator=g, dtype=torch.float64)
        bias = 0.5 * torch.randn(c, generator=g, dtype=torch.float64)
        dt = getattr(torch, dtype)
        init = {"num_features": c}
        if eps is not None:
            init["eps"] = eps
        if momentum is not None:
            init["momentum"] = momentum
        upstream = torch.randn(len(modes), *shape, generator=g, dtype=torch.float64)
        out.append(make_case(name, {"x": xs.to(dt), "_train": [int(m) for m in modes], "_weight": weight.to(dt),
                                    "_bias": bias.to(dt), "_upstream": upstream.to(dt)},
                             seed=seed, dtype=dtype, init=init, noncontig=("x",) if noncontig else (), note=note))

    T, E = 1, 0   # train / eval step
    out.append(make_case("readable-train-then-eval", {
        "x": torch.tensor([[[1.0, 10.0], [2.0, 20.0], [3.0, 30.0], [6.0, 60.0]],
                           [[3.0, 30.0], [3.0, 30.0], [3.0, 30.0], [3.0, 30.0]]]),
        "_train": [T, E], "_weight": torch.ones(2), "_bias": torch.zeros(2),
        "_upstream": torch.tensor([[[1.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 1.0]], [[1.0, 1.0]] * 4])},
        dtype="float32", init={"num_features": 2},
        note="the example of the prompt: one training step on a batch of 4, then one eval step"))
    add("train-3-steps", 1, "float32", (8, 4), [T, T, T], note="three training steps: running stats move by momentum 0.1 each")
    add("eval-before-training", 2, "float32", (5, 3), [E, T, E],
        note="eval first: running_mean = 0, running_var = 1 at initialisation")
    add("train-then-eval", 3, "float32", (16, 6), [T, T, T, T, E, E])
    add("alternating", 4, "float32", (6, 4), [T, E, T, E, T, E], note="train() and eval() alternate")
    add("sequence-input", 5, "float32", (4, 3, 7), [T, T, E],
        note="x is (N, C, L): statistics per channel over N and L (28 values), unbiased factor 28/27")
    add("sequence-input-batch-1", 6, "float32", (1, 4, 9), [T, T, E], note="N = 1 but L = 9: still 9 values per channel")
    add("batch-of-2", 7, "float32", (2, 5), [T, T, E],
        note="N = 2: the unbiased running variance is twice the biased batch variance")
    add("one-channel", 8, "float32", (10, 1), [T, E])
    add("momentum-0.5", 9, "float32", (8, 4), [T, T, T, E], momentum=0.5)
    add("momentum-1", 10, "float32", (8, 4), [T, T, E], momentum=1.0,
        note="momentum = 1: the running stats are exactly the last batch's (variance unbiased)")
    add("momentum-0.01", 11, "float32", (8, 4), [T, T, T, E], momentum=0.01,
        note="PyTorch convention: new = (1 - momentum) * old + momentum * batch")
    add("custom-eps", 12, "float32", (8, 4), [T, E], eps=0.1, note="eps = 0.1: inside the sqrt, in both modes")
    add("momentum-0", 21, "float32", (8, 4), [T, T, E], momentum=0.0,
        note="momentum = 0.0 is a value, not 'use the default': the running stats never move from 0 and 1")
    add("momentum-0-float64", 22, "float64", (6, 3), [T, E, T, E], momentum=0.0)
    add("tiny-variance", 13, "float32", (8, 4), [T, E], spread=1e-3, loc_scale=1e-3,
        note="batch variance ~1e-6 with eps 1e-5: eps decides the output")
    add("large-offset", 14, "float32", (16, 4), [T, T, E], offset=100.0, spread=1.0,
        note="values ~100 +- 1: a one-pass E[x²] - E[x]² variance loses its digits in float32")
    add("large-offset-float64", 15, "float64", (16, 4), [T, T, E], offset=1e6,
        note="values ~1e6 +- 1 in float64: a one-pass variance loses ~4 digits")
    add("float64", 16, "float64", (8, 5), [T, T, E, T, E])
    add("float64-sequence", 17, "float64", (3, 4, 6), [T, E, T, E], momentum=0.3)
    add("noncontiguous", 18, "float32", (6, 4, 5), [T, T, E], noncontig=True, note="each batch is a non-contiguous view")
    add("long-run", 19, "float32", (12, 3), [T] * 10 + [E], note="10 training steps then eval: running stats converge")
    add("wide", 20, "float32", (32, 64), [T, E])
    for i, (shape, dtype) in enumerate([((5, 7), "float64"), ((3, 2, 4), "float32"), ((9, 3, 2), "float64")]):
        add(f"random-shape-{i}", 30 + i, dtype, shape, [T, E, T])
    return out
