"""Cases for LoRALinear: a custom `run` drives the module through its life cycle, and
`check` validates the random init of lora_A (any draw from the stated distribution is
right) while comparing every other output with the reference.

Per case, `run` (worker side):
  1. seeds torch's global RNG with the case seed, builds the base nn.Linear from the
     case's weights and constructs LoRALinear(base, rank, alpha);
  2. records the parameter counts (all, and requiring grad), lora_A / lora_B as
     initialised and the output at init;
  3. loads the case's A and B into lora_A / lora_B, records the output and the
     gradients of lora_A and lora_B for the case's upstream gradient;
  4. calls merge(), records base.weight (of the nn.Linear it was given) and the output,
     then calls merge() again and records the output once more.
"""

from typing import Any

from drillcli.fixtures import Case, make_case

RETURNS = ("y",)
REFERENCE_DTYPE = "float64"

TOL = {"float32": (1e-5, 1e-4), "float64": (1e-10, 1e-8)}   # (atol, rtol), as in spec.yaml
EXACT = ("n_params", "n_trainable", "B_init")
VALUES = ("y_init", "y", "grad_A", "grad_B", "W_merged", "y_merged", "y_merged_twice")


def run(entry: Any, kind: str, case: Case, names: list[str]) -> dict[str, Any]:
    import torch

    from drillcli.harness import WrongReturn, build_inputs, check_inputs_unchanged

    _, named, _ = build_inputs(case)
    W, b, A, B, x, up = (named.get(k) for k in ("_W", "_b", "_A", "_B", "x", "_upstream"))
    out_f, in_f = W.shape
    base = torch.nn.Linear(in_f, out_f, bias=b is not None, dtype=W.dtype)
    with torch.no_grad():
        base.weight.copy_(W)
        if b is not None:
            base.bias.copy_(b)

    torch.manual_seed(case.seed or 0)
    lora = entry(base, **case.init)
    if not isinstance(lora, torch.nn.Module):
        raise WrongReturn("LoRALinear must be a torch.nn.Module subclass")
    params = list(lora.parameters())
    res: dict[str, Any] = {
        "n_params": sum(p.numel() for p in params),
        "n_trainable": sum(p.numel() for p in params if p.requires_grad),
    }
    for attr, want in (("lora_A", tuple(A.shape)), ("lora_B", tuple(B.shape))):
        p = getattr(lora, attr, None)
        if not isinstance(p, torch.nn.Parameter):
            raise WrongReturn(f"self.{attr} must be an nn.Parameter, got {type(p).__name__}")
        if tuple(p.shape) != want:
            raise WrongReturn(f"self.{attr} has shape {tuple(p.shape)}; expected {want} "
                              f"(lora_A is (rank, in_features), lora_B is (out_features, rank))")
    res["A_init"] = lora.lora_A.detach().clone()
    res["B_init"] = lora.lora_B.detach().clone()
    res["y_init"] = lora(x).detach()

    with torch.no_grad():
        lora.lora_A.copy_(A)
        lora.lora_B.copy_(B)
    lora.lora_A.grad = lora.lora_B.grad = None
    y = lora(x)
    if not y.requires_grad:
        raise WrongReturn("the output is not connected to lora_A / lora_B (avoid .detach() and torch.no_grad())")
    y.backward(up)
    for attr, key in (("lora_A", "grad_A"), ("lora_B", "grad_B")):
        g = getattr(lora, attr).grad
        res[key] = g.detach().clone() if g is not None else torch.zeros_like(getattr(lora, attr))
    res["y"] = y.detach()

    lora.merge()
    res["W_merged"] = base.weight.detach().clone()
    res["y_merged"] = lora(x).detach()
    lora.merge()
    res["y_merged_twice"] = lora(x).detach()
    check_inputs_unchanged(case, named)
    return res


def _close(name: str, expected: Any, got: Any, atol: float, rtol: float) -> str | None:
    import numpy as np

    exp, act = np.asarray(expected, dtype=np.float64), np.asarray(got, dtype=np.float64)
    if exp.size == 0:
        return None
    if not np.isfinite(act).all():
        return f"{name}: NaN/inf values\n{name} = {act}"
    err = np.abs(act - exp)
    off = err > atol + rtol * np.abs(exp)
    if off.any():
        i = tuple(int(k) for k in np.argwhere(off)[0])
        return (f"{name}: {int(off.sum())} of {off.size} values outside atol={atol:g}, rtol={rtol:g}\n"
                f"first at {list(i)}: expected {exp[i]:.6g}, got {act[i]:.6g}; max abs error {err.max():.3g}")
    return None


def check(case: Case, got: dict[str, Any]) -> str | None:
    import numpy as np

    for name in EXACT:
        exp, act = np.asarray(case.outputs[name]), np.asarray(got[name])
        if not np.array_equal(exp, act):
            if name == "B_init":
                return "lora_B is not initialised to zeros\nthe output at init must equal base(x): B = 0 makes the update vanish"
            what = "parameters in total" if name == "n_params" else "parameters with requires_grad=True"
            return (f"{name}: {act} {what}, expected {exp}\n"
                    "only lora_A (rank x in) and lora_B (out x rank) may be trainable; the base layer's weight "
                    "and bias must be frozen (requires_grad=False) and counted once")
    A = np.asarray(got["A_init"], dtype=np.float64)
    bound = 1.0 / np.sqrt(A.shape[1])
    if not np.isfinite(A).all() or np.abs(A).max() > bound * (1 + 1e-6):
        return (f"lora_A at init is outside U(-1/sqrt(in), 1/sqrt(in)) = +-{bound:.4g}\n"
                f"max |lora_A| = {np.abs(A).max():.4g}; use nn.init.kaiming_uniform_(lora_A, a=math.sqrt(5))")
    if A.size >= 16 and (A.std() < 0.25 * bound or np.unique(A).size < A.size // 2):
        return (f"lora_A at init does not look like U(-1/sqrt(in), 1/sqrt(in)) = +-{bound:.4g}\n"
                f"std {A.std():.4g} (expected about {bound / np.sqrt(3):.4g}), {np.unique(A).size} distinct values "
                f"of {A.size}; lora_A must be random (B = 0 keeps the output unchanged) so both get gradients")
    atol, rtol = TOL.get(case.dtype or "float32", TOL["float32"])
    for name in VALUES:
        problem = _close(name, case.outputs[name], got[name], atol, rtol)
        if problem:
            return problem
    return None


def cases() -> list[Case]:
    import torch

    f32, f64 = torch.float32, torch.float64
    out: list[Case] = []

    def add(name, seed, dtype, lead, in_f, out_f, rank, alpha, bias=True, x_scale=1.0, noncontig=False, note=""):
        g = torch.Generator().manual_seed(seed)
        W = torch.randn(out_f, in_f, generator=g, dtype=f64) / in_f ** 0.5
        b = 0.5 * torch.randn(out_f, generator=g, dtype=f64)
        A = torch.randn(rank, in_f, generator=g, dtype=f64) / in_f ** 0.5
        B = torch.randn(out_f, rank, generator=g, dtype=f64) / rank ** 0.5
        x = x_scale * torch.randn(*lead, in_f, generator=g, dtype=f64)
        up = torch.randn(*lead, out_f, generator=g, dtype=f64)
        inputs = {"x": x.to(dtype), "_W": W.to(dtype)} | ({"_b": b.to(dtype)} if bias else {})
        inputs |= {"_A": A.to(dtype), "_B": B.to(dtype), "_upstream": up.to(dtype)}
        out.append(make_case(name, inputs, seed=seed, dtype=str(dtype).removeprefix("torch."),
                             init={"rank": rank, "alpha": alpha}, noncontig=("x",) if noncontig else (), note=note))

    out.append(make_case("readable", {
        "x": torch.tensor([[1.0, 2.0]]), "_W": torch.eye(2), "_b": torch.tensor([0.0, 0.5]),
        "_A": torch.tensor([[1.0, -1.0]]), "_B": torch.tensor([[0.5], [2.0]]), "_upstream": torch.ones(1, 2)},
        seed=0, dtype="float32", init={"rank": 1, "alpha": 2.0}, note="the example of the prompt"))
    add("readable-no-bias", 1, f32, (2,), 3, 2, 1, 1.0, bias=False, note="a base nn.Linear with bias=False")
    add("rank-4", 2, f32, (4,), 16, 12, 4, 8.0, note="scaling = alpha / rank = 2")
    add("rank-8-alpha-16", 3, f32, (2, 5), 32, 24, 8, 16.0, note="the common r = 8, alpha = 16 setting")
    add("alpha-equals-rank", 4, f32, (3,), 8, 8, 4, 4.0, note="scaling 1")
    add("scaling-fraction", 5, f32, (3,), 12, 10, 4, 1.0,
        note="alpha = 1, rank = 4: scaling 0.25 (alpha // rank would give 0)")
    add("scaling-non-integer", 6, f64, (3,), 12, 10, 2, 3.0, note="alpha = 3, rank = 2: scaling 1.5, not 1")
    add("rank-1", 7, f32, (4,), 10, 6, 1, 2.0)
    add("full-rank", 8, f64, (4,), 6, 5, 5, 10.0, note="rank = min(in, out)")
    add("wide-out", 9, f32, (2, 3), 4, 20, 2, 4.0, note="out_features > in_features")
    add("wide-in", 10, f32, (2, 3), 40, 3, 2, 4.0, note="in_features > out_features")
    add("square", 11, f32, (5,), 8, 8, 2, 4.0, note="in = out: a transposed merge still runs, with the wrong values")
    add("float64", 12, f64, (2, 4), 16, 12, 4, 8.0, note="a float64 base layer: lora_A and lora_B must be float64 too")
    add("float64-square", 13, f64, (3,), 10, 10, 3, 6.0)
    add("large", 14, f32, (2, 8), 64, 48, 8, 16.0)
    add("vector-input", 15, f32, (), 8, 6, 2, 4.0, note="x is a single vector (in_features,)")
    add("three-leading-dims", 16, f64, (2, 2, 3), 6, 4, 2, 2.0)
    add("noncontiguous", 17, f32, (3, 4), 8, 6, 2, 4.0, noncontig=True, note="x is a non-contiguous view")
    add("large-inputs", 18, f32, (4,), 16, 16, 4, 8.0, x_scale=100.0, note="|x| around 100")
    add("empty-batch", 19, f32, (0,), 8, 6, 2, 4.0, note="x of shape (0, in): the output is (0, out)")
    add("no-bias-float64", 20, f64, (3,), 12, 8, 4, 8.0, bias=False)
    add("alpha-0", 21, f32, (3,), 8, 6, 2, 0.0,
        note="alpha = 0: scaling 0, the adapter adds nothing (0.0 is a value, not 'use a default')")
    add("alpha-0-float64", 22, f64, (2, 3), 10, 7, 4, 0.0,
        note="alpha = 0: y = base(x), the gradients of lora_A and lora_B are 0, merge changes nothing")
    for i, (lead, in_f, out_f, r, a) in enumerate([((3,), 5, 7, 2, 3.0), ((2, 4), 20, 9, 3, 9.0), ((6,), 7, 7, 7, 1.0)]):
        add(f"random-shapes-{i}", 30 + i, f32 if i % 2 == 0 else f64, lead, in_f, out_f, r, a)
    return out
