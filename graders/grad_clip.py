"""Cases for gradient-norm clipping. The run hook builds leaf parameters p0, p1, ... with
their .grad set to g0, g1, ... (or None), calls the entry, and returns the total norm, the
gradients after the call and the parameter values (which must not change); a p.grad replaced
by a new tensor instead of clipped in place is reported."""

from drillcli.fixtures import Case, make_case

RETURNS = ("total_norm", "grads", "params")


def _per_parameter(parameters, max_norm, norm_type=2.0):
    """Each gradient clipped by its own norm; returns the global norm."""
    import torch

    params = [parameters] if isinstance(parameters, torch.Tensor) else list(parameters)
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return torch.tensor(0.0)
    norms = torch.stack([torch.linalg.vector_norm(g, norm_type) for g in grads])
    for g, n in zip(grads, norms):
        g.mul_(torch.clamp(max_norm / (n + 1e-6), max=1.0))
    return torch.linalg.vector_norm(norms, norm_type)


NEAR_MISSES = {
    "per-parameter": ("your output matches each parameter's gradient clipped by its own norm; this problem clips "
                      "every gradient by one coefficient from the global norm over all of them (see the prompt)",
                      _per_parameter),
}
# no REFERENCE_DTYPE: expected values are computed in the gradients' dtype, as torch does, so
# that a float32 norm whose sum overflows is inf (the p3-overflow cases)


def run(entry, kind, case, names):
    import torch

    from drillcli.harness import WrongReturn, to_user

    n = sum(1 for k in case.inputs if k.startswith("p") and k[1:].isdigit())
    params = []
    for i in range(n):
        p = to_user(case, f"p{i}").detach().requires_grad_(True)
        if f"g{i}" in case.inputs:
            p.grad = to_user(case, f"g{i}")
        params.append(p)
    before = [p.grad for p in params]
    passed = {"list": lambda: params, "generator": lambda: (p for p in params),
              "tensor": lambda: params[0]}[case.inputs["_pass_as"]]()
    total = entry(passed, case.inputs["max_norm"], case.inputs["norm_type"])
    if not isinstance(total, torch.Tensor) or total.dim() != 0:
        raise WrongReturn(f"clip_grad_norm must return total_norm as a 0-dim tensor "
                          f"(as torch.nn.utils.clip_grad_norm_ does), got {type(total).__name__}"
                          + (f" of shape {tuple(total.shape)}" if isinstance(total, torch.Tensor) else ""))
    if any(p.grad is not g for p, g in zip(params, before)):
        raise WrongReturn("p.grad was replaced by a new tensor: clip each gradient in place "
                          "(p.grad.mul_(clip_coef)), never assign p.grad = ...")
    grads = [p.grad.detach().reshape(-1) for p in params if p.grad is not None]
    dtype = params[0].dtype
    return {"total_norm": total.detach(),
            "grads": torch.cat(grads) if grads else torch.zeros(0, dtype=dtype),
            "params": torch.cat([p.detach().reshape(-1) for p in params])}


def cases() -> list[Case]:
    import torch

    out: list[Case] = []

    def case(name, params, grads, max_norm, norm_type=2.0, pass_as="list", note="", seed=None, noncontig=()):
        inputs = {}
        for i, (p, g) in enumerate(zip(params, grads)):
            inputs[f"p{i}"] = p
            if g is not None:
                inputs[f"g{i}"] = g
        inputs |= {"max_norm": max_norm, "norm_type": norm_type, "_pass_as": pass_as}
        out.append(make_case(name, inputs, seed=seed, dtype=str(params[0].dtype).removeprefix("torch."),
                             note=note, noncontig=tuple(noncontig)))

    def add(name, seed, dtype, shapes, max_norm, norm_type=2.0, scale=1.0, none=(), pass_as="list",
            note="", noncontig=()):
        g = torch.Generator().manual_seed(seed)
        params = [torch.randn(s, generator=g, dtype=torch.float64).to(dtype) for s in shapes]
        grads = [None if i in none else (scale * torch.randn(s, generator=g, dtype=torch.float64)).to(dtype)
                 for i, s in enumerate(shapes)]
        case(name, params, grads, max_norm, norm_type, pass_as, note, seed, noncontig)

    f32, f64 = torch.float32, torch.float64
    inf = float("inf")
    w, b = torch.tensor([[1.0, -2.0], [0.5, 0.0]]), torch.tensor([0.1, 0.2])
    gw, gb = torch.tensor([[3.0, 0.0], [0.0, -4.0]]), torch.tensor([0.0, 0.0])
    case("readable-l2", [w, b], [gw, gb], 1.0, note="the example of the prompt: total norm 5, grads scaled by ~1/5")
    case("readable-no-clip", [w, b], [gw, gb], 10.0, note="total norm 5 < max_norm 10: grads unchanged")
    case("readable-l1", [w, b], [gw, gb], 3.5, 1.0, note="norm_type=1: |3| + |-4| = 7")
    case("readable-inf", [w, b], [gw, gb], 2.0, inf, note="norm_type=inf: max |g| = 4 (the -4: take abs)")
    add("two-layers-l2", 1, f32, [(4, 3), (4,), (2, 4), (2,)], 0.5)
    add("l2-no-clip", 2, f32, [(5, 5), (5,)], 100.0, note="norm far below max_norm: scale by 1 (never scale up)")
    add("l1-mixed-signs", 3, f32, [(6, 2), (3,)], 1.0, 1.0, note="norm_type=1 sums absolute values")
    add("inf-negative-extreme", 4, f32, [(3, 3), (7,)], 0.3, inf, scale=2.0,
        note="norm_type=inf: the largest |g| may be negative")
    add("p3-general", 5, f64, [(4, 4), (4,)], 0.7, 3.0, note="norm_type=3: (sum |g|^3)^(1/3)")
    add("float64-l2", 6, f64, [(8, 3), (3,), (3, 2)], 0.25)
    add("float64-inf", 7, f64, [(2, 5), (5,)], 0.1, inf)
    add("some-grads-none", 8, f32, [(3, 4), (4,), (2, 3), (3,)], 0.5, none=(1, 3),
        note="parameters whose .grad is None are skipped (frozen layers)")
    add("all-grads-none", 9, f32, [(2, 2), (3,)], 1.0, none=(0, 1),
        note="no gradient at all: total_norm is 0 (a float32 0-dim tensor), nothing to clip")
    add("generator-input", 10, f32, [(4, 4), (4,), (3, 4)], 0.5, pass_as="generator",
        note="parameters is a one-shot generator like model.parameters(): iterate it once")
    add("generator-some-grads-none", 24, f64, [(3,), (2, 2), (5,)], 0.2, none=(1,), pass_as="generator",
        note="a one-shot generator with a frozen parameter in the middle")
    add("single-tensor", 11, f32, [(6, 3)], 0.2, pass_as="tensor",
        note="parameters is a single tensor, not a list")
    add("zero-grads", 12, f32, [(3, 3), (3,)], 1.0, scale=0.0,
        note="all gradients 0: total norm 0, max_norm / (0 + 1e-6) is clamped to 1")
    add("norm-just-above-max", 13, f64, [(5,), (5,)], 1.0, scale=0.32)
    g13 = torch.tensor([3e-4, -4e-4], dtype=torch.float64)
    case("norm-equals-max-small", [torch.zeros(2, dtype=f64)], [g13], 5e-4,
         note="total norm == max_norm == 5e-4: the coefficient max_norm / (norm + 1e-6) is 0.998, so clip anyway")
    add("tiny-max-norm", 14, f32, [(4, 4)], 1e-3, note="max_norm 1e-3: the 1e-6 in the denominator shows")
    add("large-grads", 15, f32, [(6, 6), (6,)], 1.0, scale=1e15,
        note="gradients ~1e15 (a loss spike): squares ~1e30 still fit in float32")
    add("p3-overflow-float32", 25, f32, [(6, 6), (6,)], 1.0, 3.0, scale=1e15,
        note="norm_type=3 on values ~1e15 in float32: sum |g|^3 overflows, so total_norm is inf and every "
             "gradient becomes 0 (max_norm / inf), as torch does; do not upcast")
    add("p4-overflow-float32", 26, f32, [(4, 5)], 2.0, 4.0, scale=1e12,
        note="norm_type=4 on values ~1e12 in float32: sum |g|^4 overflows to inf, gradients become 0")
    add("p3-large-float64", 27, f64, [(6, 6), (6,)], 1.0, 3.0, scale=1e15,
        note="the same values in float64: no overflow, a finite norm ~4e15")
    add("tiny-grads", 16, f64, [(4, 4)], 1e-9, scale=1e-7, note="gradients ~1e-7, max_norm 1e-9")
    add("scalar-and-empty-params", 17, f32, [(), (0,), (3, 2)], 0.3,
        note="a 0-dim parameter and an empty (0,) parameter")
    add("noncontiguous-grads", 18, f32, [(3, 5), (5,)], 0.4, noncontig=("g0", "g1"),
        note="gradients are non-contiguous views: reshape, not view")
    add("many-params", 19, f32, [(2, 3)] * 12, 1.5, 2.0)
    for i, (shapes, nt) in enumerate([([(7,), (2, 2, 2)], 2.0), ([(3, 6), (6,)], 1.0), ([(4, 1), (1,)], inf)]):
        add(f"random-{i}", 20 + i, f32 if i % 2 == 0 else f64, shapes, 0.3 + 0.2 * i, nt, scale=1.5)
    return out
