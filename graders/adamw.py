"""Cases for adamw, and the optimizer harness the adam, sgd-momentum and lion graders share.

A case is a tiny model and a fixed sequence of batches, all stored as grader-only inputs:
    _param0, _param1, ...   the initial parameters, in the order they are given to the optimizer
    _x (T, B, n_in), _y (T, B, n_out)   one batch per step
    _model                  {"arch": "mlp" | "linear" | "scaled-linear", "scale": s}
and `init` holds the optimizer's constructor kwargs (lr, betas, ...). The run hook builds
the parameters as leaf tensors, gives the user's class `iter(params)` (a one-shot iterator,
as model.parameters() is), then for each step t: opt.zero_grad(); loss(batch t).backward();
opt.step(). The output `params` (T, P) holds every parameter, flattened and concatenated in
order, after each step. Parameters the architecture does not use never get a gradient.

    mlp:            pred = tanh(x @ W1.T + b1) @ W2.T + b2       params W1, b1, W2, b2 [, frozen...]
    linear:         pred = x @ W.T + b                          params W, b [, frozen...]
    scaled-linear:  pred = s * (x @ W.T) + b, s a 0-dim param   params s, W, b [, frozen...]
    loss = scale * mean((pred - y) ** 2)
"""

from functools import partial

from drillcli.fixtures import Case, make_case

RETURNS = ("params",)
REFERENCE_DTYPE = "float64"


def adam_variant(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, *, decay, eps_hat=False,
                 corrected=True):
    """Adam(W) with one convention changed, for the NEAR_MISSES of adam and adamw. decay: "l2"
    (added to the gradient, Adam), "decoupled" (p *= 1 - lr * wd before the update, AdamW) or
    "after" (decoupled, after the update); eps_hat: the Adam paper's efficient form, bias
    corrections folded into the step size and eps added to sqrt(v); corrected=False: none."""
    import math

    import torch

    class Variant:
        def __init__(self):
            self.params = list(params)
            self.m = [torch.zeros_like(p) for p in self.params]
            self.v = [torch.zeros_like(p) for p in self.params]
            self.t = 0

        def zero_grad(self):
            for p in self.params:
                p.grad = None

        @torch.no_grad()
        def step(self):
            self.t += 1
            b1, b2 = betas
            bc1, bc2 = (1 - b1 ** self.t, 1 - b2 ** self.t) if corrected else (1.0, 1.0)
            for p, m, v in zip(self.params, self.m, self.v):
                if p.grad is None:
                    continue
                g = p.grad + weight_decay * p if decay == "l2" else p.grad
                if decay == "decoupled":
                    p.mul_(1 - lr * weight_decay)
                m.mul_(b1).add_(g, alpha=1 - b1)
                v.mul_(b2).addcmul_(g, g, value=1 - b2)
                if eps_hat:
                    p.sub_(lr * math.sqrt(bc2) / bc1 * m / (v.sqrt() + eps))
                else:
                    p.sub_(lr * (m / bc1) / ((v / bc2).sqrt() + eps))
                if decay == "after":
                    p.mul_(1 - lr * weight_decay)

    return Variant()


EPS_HAT = ("your output matches the epsilon-hat form of the Adam paper's efficient version (and TensorFlow): "
           "lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t), eps added to the uncorrected sqrt(v); this problem "
           "adds eps to sqrt(v_hat), after bias correction, as PyTorch (see the prompt)")
NO_BIAS_CORRECTION = ("your output matches Adam without bias correction (m and v used as they are); this problem "
                      "divides them by 1 - beta1^t and 1 - beta2^t (see the prompt)")

NEAR_MISSES = {
    "epsilon-hat": (EPS_HAT, partial(adam_variant, decay="decoupled", eps_hat=True)),
    "no-bias-correction": (NO_BIAS_CORRECTION, partial(adam_variant, decay="decoupled", corrected=False)),
    "l2-penalty": ("your output matches Adam's L2 penalty, weight_decay * p added to the gradient (torch.optim.Adam); "
                   "this problem decays p directly, p *= 1 - lr * weight_decay, outside m and v (see the prompt)",
                   partial(adam_variant, decay="l2")),
    "decay-after-update": ("your output matches the decay applied after the Adam update; this problem shrinks p "
                           "before it, p *= 1 - lr * weight_decay on the p of the previous step (see the prompt)",
                           partial(adam_variant, decay="after")),
}


def _loss(params, x, y, model):
    import torch

    arch = model["arch"]
    if arch == "mlp":
        w1, b1, w2, b2 = params[:4]
        pred = torch.tanh(x @ w1.T + b1) @ w2.T + b2        # (B, n_out)
    elif arch == "linear":
        w, b = params[:2]
        pred = x @ w.T + b
    elif arch == "scaled-linear":
        s, w, b = params[:3]
        pred = s * (x @ w.T) + b
    else:
        raise ValueError(f"unknown architecture {arch}")
    return model["scale"] * ((pred - y) ** 2).mean()


def run(entry, kind, case, names):
    """Drive the optimizer class for T steps; returns {"params": (T, P)}."""
    import torch

    from drillcli.harness import WrongReturn, to_user

    params = [to_user(case, n).requires_grad_(True) for n in case.inputs if n.startswith("_param")]
    x, y = to_user(case, "_x"), to_user(case, "_y")
    model = case.inputs["_model"]
    init = {k: (tuple(v) if isinstance(v, list) else v) for k, v in case.init.items()}
    opt = entry(iter(params), **init)
    for name in ("step", "zero_grad"):
        if not callable(getattr(opt, name, None)):
            raise WrongReturn(f"{type(opt).__name__} has no method {name}()")
    snapshots = []
    for t in range(x.shape[0]):
        opt.zero_grad()
        _loss(params, x[t], y[t], model).backward()
        opt.step()
        for i, p in enumerate(params):
            if not isinstance(p, torch.Tensor) or p.dtype != x.dtype or p.shape != case.inputs[f"_param{i}"].shape:
                raise WrongReturn(f"parameter {i} changed type, dtype or shape: update it in place")
        snapshots.append(torch.cat([p.detach().reshape(-1) for p in params]).clone())
    return {"params": torch.stack(snapshots)}                      # (T, P)


def optimizer_case(name, seed, init, dtype="float32", arch="mlp", steps=5, batch=4, n_in=3, hidden=5,
                   n_out=2, scale=1.0, frozen=0, zero_inputs=(), zero_steps=(), noncontig=(), param_scale=1.0, note=""):
    """One case: initial parameters and T batches drawn from a seeded generator."""
    import torch

    dt = getattr(torch, dtype)
    g = torch.Generator().manual_seed(seed)

    def randn(*shape, s=1.0):
        return (torch.randn(tuple(shape), generator=g, dtype=torch.float64) * s).to(dt)

    if arch == "mlp":
        shapes = [(hidden, n_in), (hidden,), (n_out, hidden), (n_out,)]
    elif arch == "linear":
        shapes = [(n_out, n_in), (n_out,)]
    else:
        shapes = [(), (n_out, n_in), (n_out,)]
    shapes += [(2, 3)] * frozen
    inputs = {f"_param{i}": randn(*s, s=param_scale) for i, s in enumerate(shapes)}
    x = randn(steps, batch, n_in)
    for col in zero_inputs:
        x[..., col] = 0           # input feature always 0: the first-layer weights of that column get exact zero gradients
    x[list(zero_steps)] = 0       # whole batch 0 at these steps: the first-layer weight's whole gradient is exactly zero
    inputs |= {"_x": x, "_y": randn(steps, batch, n_out), "_model": {"arch": arch, "scale": scale}}
    return make_case(name, inputs, seed=seed, dtype=dtype, init=init, noncontig=tuple(noncontig), note=note)


def standard_cases(base, variants, overrides=None):
    """The case list every optimizer shares. `base`: the hyperparameters every case starts
    from; `variants`: extra (name, init overrides, case kwargs, note) for the optimizer's own
    features; `overrides`: case name -> init overrides for this optimizer (e.g. a smaller lr)."""
    overrides = overrides or {}
    specs = [
        ("readable-linear-3-steps", dict(lr=0.1), dict(arch="linear", steps=3, batch=2, n_in=2, n_out=1, seed=0),
         "W (1, 2), b (1,): params[t] = [W[0,0], W[0,1], b[0]] after step t + 1"),
        ("readable-one-step", dict(lr=0.1), dict(arch="linear", steps=1, batch=2, n_in=2, n_out=1, seed=1),
         "a single step from fresh state"),
        ("mlp-typical", {}, dict(seed=2, steps=6), "typical hyperparameters (see init)"),
        ("mlp-float64", dict(lr=0.05), dict(seed=3, dtype="float64", steps=8), ""),
        ("mlp-float64-typical", {}, dict(seed=4, dtype="float64", steps=5, hidden=7, n_in=4, n_out=3), ""),
        ("long-run-60-steps", dict(lr=0.02), dict(seed=5, steps=60, batch=3, hidden=4, n_in=2, n_out=1),
         "60 steps: the step count t must be right at every step"),
        ("long-run-float64", dict(lr=0.01), dict(seed=6, steps=40, dtype="float64", hidden=4, n_in=2, n_out=1), ""),
        ("frozen-param", dict(lr=0.05), dict(seed=7, frozen=1, steps=4),
         "the last parameter (2, 3) is not used by the loss: its .grad stays None, skip it entirely"),
        ("frozen-params-linear", dict(lr=0.05), dict(seed=8, arch="linear", frozen=2, steps=4),
         "two unused parameters: they must come out unchanged"),
        ("zero-gradient-columns", dict(lr=0.05), dict(seed=9, zero_inputs=(0, 2), steps=5, n_in=4),
         "input features 0 and 2 are always 0: those weight columns get exactly zero gradients"),
        ("tiny-gradients", dict(lr=0.01), dict(seed=10, scale=1e-9, steps=5, dtype="float64"),
         "loss scaled by 1e-9: gradients ~1e-10, below eps"),
        ("tiny-gradients-float32", dict(lr=0.01), dict(seed=11, scale=1e-7, steps=5),
         "loss scaled by 1e-7: gradients ~1e-8, the size of eps"),
        ("huge-gradients", dict(lr=0.01), dict(seed=12, scale=1e6, steps=5),
         "loss scaled by 1e6: gradients ~1e5"),
        ("scalar-param", dict(lr=0.05), dict(seed=13, arch="scaled-linear", steps=5),
         "the first parameter is a 0-dim tensor"),
        ("single-element-params", dict(lr=0.1), dict(seed=14, arch="linear", n_in=1, n_out=1, batch=1, steps=5),
         "W (1, 1), b (1,), batch of 1"),
        ("noncontiguous-params", dict(lr=0.05), dict(seed=15, noncontig=("_param0", "_param2"), steps=4),
         "W1 and W2 are non-contiguous leaf tensors (strided views): no .view() on them"),
        ("large-params", dict(lr=0.05), dict(seed=16, arch="linear", param_scale=50.0, steps=4),
         "linear layer with parameters ~50: decay terms are large"),
        ("random-shapes-0", dict(lr=0.03), dict(seed=17, hidden=8, n_in=6, n_out=3, batch=5, steps=5), ""),
        ("random-shapes-1", dict(lr=0.03), dict(seed=18, hidden=3, n_in=1, n_out=4, batch=2, steps=5, dtype="float64"), ""),
        ("random-shapes-2", dict(lr=0.03), dict(seed=19, arch="linear", n_in=7, n_out=5, batch=8, steps=6), ""),
        ("all-zero-gradient-after-steps", dict(lr=0.05, weight_decay=0.1), dict(seed=40, steps=6, zero_steps=(2, 3, 4, 5)),
         "from step 3 on, W1's whole gradient is exactly zero (not None): it is not skipped, "
         "weight decay and the optimizer state still apply, as in torch"),
        ("all-zero-gradient-after-steps-float64", dict(lr=0.05, weight_decay=0.1),
         dict(seed=41, steps=5, arch="linear", zero_steps=(1, 3, 4), dtype="float64"),
         "at steps 2, 4 and 5, W's whole gradient is exactly zero (not None): decay and state still apply"),
    ]
    return [optimizer_case(name, init={**base, **over, **overrides.get(name, {})}, note=note, **kw)
            for name, over, kw, note in specs + list(variants)]


def cases() -> list[Case]:
    base = {"lr": 1e-3, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 1e-2}   # the constructor's defaults
    variants = [
        ("strong-decay", dict(lr=0.1, weight_decay=0.5), dict(seed=20, steps=5),
         "lr 0.1, weight_decay 0.5: decay is lr * wd * p (0.05 p), from p before the update"),
        ("strong-decay-float64", dict(lr=0.1, weight_decay=0.5), dict(seed=21, steps=5, dtype="float64"), ""),
        ("no-weight-decay", dict(lr=0.05, weight_decay=0.0), dict(seed=22, steps=5), ""),
        ("beta1-zero", dict(lr=0.05, betas=[0.0, 0.999]), dict(seed=23, steps=5), "no momentum: m = g"),
        ("beta1-zero-float64", dict(lr=0.05, betas=[0.0, 0.999]), dict(seed=31, steps=5, dtype="float64"),
         "beta1 0.0 is a value, not 'use the default 0.9': m = g, and its bias correction is 1"),
        ("beta2-small", dict(lr=0.05, betas=[0.5, 0.6]), dict(seed=24, steps=8),
         "betas (0.5, 0.6): bias corrections differ from 1 only for a few steps, and differ from each other"),
        ("betas-swapped-detector", dict(lr=0.05, betas=[0.8, 0.99]), dict(seed=25, steps=6),
         "beta1 and beta2 far apart: swapping them changes every step"),
        ("large-eps", dict(lr=0.05, eps=0.1), dict(seed=26, steps=5),
         "eps 0.1: where eps is added (after sqrt, after bias correction) matters"),
        ("large-eps-float64", dict(lr=0.05, eps=0.03), dict(seed=27, steps=5, dtype="float64", scale=0.01), ""),
        ("no-weight-decay-float64", dict(lr=0.05, weight_decay=0.0), dict(seed=28, steps=5, dtype="float64"),
         "weight_decay 0.0 is a value, not 'use the default'"),
        ("eps-zero", dict(lr=0.01, eps=0.0), dict(seed=29, scale=1e-7, steps=5),
         "eps 0.0 is a value, not 'use the default': gradients ~1e-8, where eps 1e-8 would halve the step"),
        ("eps-zero-float64", dict(lr=0.01, eps=0.0), dict(seed=30, scale=1e-9, steps=5, dtype="float64"), ""),
    ]
    return standard_cases(base, variants)
