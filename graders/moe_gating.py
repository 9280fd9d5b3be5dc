"""Cases for top-k MoE gating with the Switch load-balancing loss.

Several answers are right: the k experts of a row may come in any order, and tied logits
make several top-k sets valid (which also changes the load-balancing loss). So `check`
validates the user's routing and recomputes, in float64 numpy from the case's logits,
what the weights, the loss and the two gradients must be for the experts the user chose.

`run` calls the entry, then returns the gradient of aux_loss w.r.t. the logits and the
gradient of sum(weights * _upstream) w.r.t. the logits (the loss must be differentiable
through the router probabilities P; the counts f carry no gradient).
"""

from typing import Any

from drillcli.fixtures import Case, make_case

RETURNS = ("weights", "indices", "aux_loss")

TOL = {"float32": (1e-5, 1e-4), "float64": (1e-10, 1e-8)}   # (atol, rtol), as in spec.yaml


def run(entry: Any, kind: str, case: Case, names: list[str]) -> dict[str, Any]:
    import torch

    from drillcli.harness import WrongReturn, build_inputs, check_inputs_unchanged, unpack

    args, named, _ = build_inputs(case)
    logits = args[0].requires_grad_(True)
    got = unpack(entry(*args), names)
    check_inputs_unchanged(case, named)
    for name in names:
        if not isinstance(got[name], torch.Tensor):
            raise WrongReturn(f"{name} must be a torch.Tensor, got {type(got[name]).__name__}")
    weights, aux = got["weights"], got["aux_loss"]

    def grad_of(value: Any, upstream: Any = None) -> Any:
        if not value.requires_grad:     # detached: no gradient reaches the router
            return torch.zeros_like(logits)
        g, = torch.autograd.grad(value, logits, upstream, retain_graph=True, allow_unused=True)
        return torch.zeros_like(logits) if g is None else g

    res = {name: got[name].detach() for name in names}
    res["grad_aux"] = grad_of(aux) if aux.dim() == 0 else torch.zeros_like(logits)
    up = named["_upstream"]
    res["grad_weights"] = grad_of(weights, up) if weights.shape == up.shape else torch.zeros_like(logits)
    return res


def _softmax(z: Any) -> Any:
    import numpy as np

    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def _close(name: str, exp: Any, act: Any, atol: float, rtol: float) -> str | None:
    import numpy as np

    exp, act = np.asarray(exp, dtype=np.float64), np.asarray(act, dtype=np.float64)
    if exp.size == 0:
        return None
    if not np.isfinite(act).all():
        return f"{name}: NaN/inf values where finite ones are expected\n{name} = {act.ravel()[:8]}"
    err = np.abs(act - exp)
    off = err > atol + rtol * np.abs(exp)
    if off.any():
        i = tuple(int(v) for v in np.argwhere(off)[0]) if off.ndim else ()
        return (f"{name}: {int(off.sum())} of {off.size} values outside atol={atol:g}, rtol={rtol:g}\n"
                f"first at {list(i)}: expected {exp[i]:.8g}, got {act[i]:.8g}\n"
                "(expected values are computed for the experts your indices selected)")
    return None


def check(case: Case, got: dict[str, Any]) -> str | None:
    import numpy as np

    z = np.asarray(case.inputs["logits"], dtype=np.float64)
    k, E = int(case.inputs["k"]), z.shape[-1]
    z = z.reshape(-1, E)
    N = z.shape[0]
    idx = np.asarray(got["indices"]).reshape(N, k)
    if idx.size and (idx.min() < 0 or idx.max() >= E):
        return f"indices: expert ids must be in [0, {E}), got values from {idx.min()} to {idx.max()}"
    dup = [t for t in range(N) if len(set(idx[t].tolist())) < k]
    if dup:
        return f"indices: row {dup[0]} selects an expert twice: {idx[dup[0]].tolist()}"
    sel = np.take_along_axis(z, idx, axis=1)                                   # (N, k)
    if k < E:
        rest = z.copy()
        np.put_along_axis(rest, idx, -np.inf, axis=1)
        # An expert left out in favour of a smaller logit is only wrong if its router probability is
        # representable: below exp(floor) it rounds to 0 in the case's dtype, as does the smaller one
        # (softmax-then-top-k, as Mixtral does it, then meets a tie at 0 with the same weights and loss).
        floor = np.log(np.finfo(np.float32 if case.dtype == "float32" else np.float64).tiny)
        rest[rest - z.max(axis=1, keepdims=True) < floor] = -np.inf
        bad = np.nonzero(sel.min(axis=1) < rest.max(axis=1))[0]
        if bad.size:
            t = int(bad[0])
            return (f"indices: row {t} does not select the {k} largest logits\n"
                    f"logits {z[t].tolist()}\nselected {idx[t].tolist()}; a larger logit was left out")
    atol, rtol = TOL.get(case.dtype or "float32", TOL["float32"])
    w = _softmax(sel)                                                          # (N, k)
    problem = _close("weights", w, np.asarray(got["weights"]).reshape(N, k), atol, rtol)
    if problem:
        return problem + "\nweights are the softmax over the k selected logits, in the order of indices"
    p = _softmax(z)                                                            # (N, E)
    P = p.mean(axis=0)
    f = np.bincount(idx.ravel(), minlength=E) / (N * k)
    problem = _close("aux_loss", E * (f * P).sum(), got["aux_loss"], atol, rtol)
    if problem:
        return problem + f"\nfor your routing: f = {np.round(f, 6).tolist()}, P = {np.round(P, 6).tolist()}"
    # d aux / d z[t, j] = (E / N) * p[t, j] * (f_j - sum_i f_i p[t, i])
    g_aux = (E / N) * p * (f[None, :] - (p * f[None, :]).sum(axis=1, keepdims=True))
    problem = _close("grad_aux", g_aux, np.asarray(got["grad_aux"]).reshape(N, E), atol, rtol)
    if problem:
        return problem + "\naux_loss must be differentiable through P (softmax of the logits); f carries no gradient"
    u = np.asarray(case.inputs["_upstream"], dtype=np.float64).reshape(N, k)
    g_w = np.zeros((N, E))
    np.put_along_axis(g_w, idx, w * (u - (w * u).sum(axis=1, keepdims=True)), axis=1)
    return _close("grad_weights", g_w, np.asarray(got["grad_weights"]).reshape(N, E), atol, rtol)


def cases() -> list[Case]:
    import torch

    f32, f64 = torch.float32, torch.float64
    out: list[Case] = []

    def add(name, seed, dtype, shape, k, scale=1.0, logits=None, noncontig=False, note=""):
        g = torch.Generator().manual_seed(seed)
        if logits is None:
            logits = scale * torch.randn(*shape, generator=g, dtype=f64)
        up = torch.randn(*logits.shape[:-1], k, generator=g, dtype=f64)
        out.append(make_case(name, {"logits": logits.to(dtype), "k": k, "_upstream": up.to(dtype)}, seed=seed,
                             dtype=str(dtype).removeprefix("torch."), noncontig=("logits",) if noncontig else (),
                             note=note))

    readable = torch.tensor([[2.0, 1.0, 0.0, -1.0], [0.5, 3.0, 1.0, 0.0], [1.0, 0.0, 2.5, 2.0]], dtype=f64)
    add("readable", 0, f32, None, 2, logits=readable, note="the example of the prompt")
    add("readable-top-1", 0, f32, None, 1, logits=readable,
        note="k = 1 (Switch): every weight is 1; f counts each token's single expert")
    add("tokens-8-experts-4", 1, f32, (8, 4), 2)
    add("tokens-16-experts-8", 2, f32, (16, 8), 2)
    add("batch-seq", 3, f32, (2, 5, 8), 2, note="logits (B, L, E): every (b, l) is a token, N = B * L")
    add("k-3", 4, f32, (10, 6), 3)
    add("k-equals-E", 5, f32, (6, 4), 4, note="k = E: weights are the full softmax, f is uniform, aux = 1")
    add("one-expert", 6, f32, (5, 1), 1, note="E = 1, k = 1: weight 1 and aux = 1")
    add("one-token", 7, f32, (1, 8), 2, note="a single token (N = 1)")
    add("float64", 8, f64, (12, 8), 2)
    add("float64-batch-seq-top1", 9, f64, (3, 4, 16), 1)
    add("large-logits", 10, f32, (8, 8), 2, scale=1e3,
        note="logits in the thousands: both softmaxes must subtract the row max")
    add("large-logits-float64", 11, f64, (8, 8), 2, scale=1e5, note="logits near 1e5: exp() overflows without the max")
    add("uniform-router", 12, f32, None, 2, logits=torch.zeros(6, 4, dtype=f64),
        note="all logits equal (a router at init): any 2 experts are valid; weights 0.5; aux = 1 whatever the choice")
    g = torch.Generator().manual_seed(13)
    add("partial-ties", 13, f64, None, 2, logits=torch.randint(-2, 3, (10, 5), generator=g).to(f64) / 2,
        note="logits on a 0.5 grid: ties at the k-th place, any tied expert is a valid choice")
    masked = torch.randn(6, 6, generator=torch.Generator().manual_seed(14), dtype=f64)
    masked[:, 4:] = float("-inf")
    add("masked-experts-neg-inf", 14, f32, None, 2, logits=masked,
        note="experts 4 and 5 have logit -inf (disabled): never selected, router probability 0")
    for name, dtype, far in (("neg-inf-ties-underflow", f32, -200.0), ("neg-inf-ties-underflow-float64", f64, -800.0)):
        tie = torch.randn(4, 5, generator=torch.Generator().manual_seed(24), dtype=f64)
        tie[:, 1:] = torch.tensor([far, far - 5, float("-inf"), float("-inf")], dtype=f64)
        add(name, 24, dtype, None, 2, logits=tie,
            note="the second-best logit is so far below the best that its probability underflows to 0, "
                 "as does a -inf expert's: either may be the second pick, with weight 0")
    skew = torch.randn(32, 8, generator=torch.Generator().manual_seed(15), dtype=f64)
    skew[:, 0] += 4.0
    add("imbalanced", 15, f32, None, 2, logits=skew, note="expert 0 wins almost every token: aux well above 1")
    balanced = torch.full((8, 4), -5.0, dtype=f64)
    balanced[torch.arange(8), torch.arange(8) % 4] = 5.0
    add("balanced-top1", 16, f64, None, 1, logits=balanced,
        note="each expert gets exactly a quarter of the tokens: f_i = 1/4")
    add("noncontiguous", 17, f32, (2, 6, 8), 2, noncontig=True, note="logits is a non-contiguous view")
    add("many-tokens", 18, f32, (256, 16), 2, note="N = 256, E = 16: f and P are averages over many tokens")
    add("tiny-logits", 19, f32, (8, 8), 3, scale=1e-4, note="logits ~ 1e-4: nearly uniform weights")
    for i, (shape, k) in enumerate([((7, 5), 2), ((2, 3, 12), 4), ((9, 3), 1)]):
        add(f"random-shapes-{i}", 20 + i, f32 if i % 2 == 0 else f64, shape, k)
    return out
