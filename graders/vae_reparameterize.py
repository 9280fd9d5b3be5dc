"""Cases for the VAE reparameterization: the sample z (drawn with a generator seeded from the
case's seed), the KL term, and on some cases the gradients of <z, up_z> + <kl, up_kl> w.r.t.
mu and logvar (so both outputs must stay in the autograd graph).

No REFERENCE_DTYPE: torch.randn draws different values in float32 and float64, so expected
values are computed in the case's own dtype."""

from drillcli.fixtures import Case, make_case

RETURNS = ("z", "kl")


def run(entry, kind, case, names):
    import numpy as np
    import torch

    from drillcli.harness import WrongReturn, build_inputs, check_inputs_unchanged, unpack

    args, named, _ = build_inputs(case)
    mu, logvar = args
    if case.inputs.get("_column_major"):       # same values, column-major memory (a transposed activation)
        mu, logvar = (t.mT.contiguous().mT for t in (mu, logvar))
    result = entry(mu, logvar, torch.Generator().manual_seed(case.seed))
    out = unpack(result, names)
    check_inputs_unchanged(case, named)
    if not case.grad:
        return out
    z, kl = out["z"], out["kl"]
    for name, value in (("z", z), ("kl", kl)):
        if not isinstance(value, torch.Tensor) or not value.requires_grad:
            raise WrongReturn(f"{name} is not connected to the autograd graph of mu and logvar "
                              "(gradients are checked: avoid .detach(), .numpy(), torch.no_grad())")
    if tuple(z.shape) != tuple(mu.shape) or tuple(kl.shape) != tuple(mu.shape[:-1]):
        return out                                          # the shape mismatch is reported by the comparison
    up_z = torch.from_numpy(np.asarray(case.inputs["_up_z"])).to(z.dtype)
    up_kl = torch.from_numpy(np.asarray(case.inputs["_up_kl"])).to(kl.dtype)
    ((z * up_z).sum() + (kl * up_kl).sum()).backward()
    grads = {f"grad_{g}": (named[g].grad if named[g].grad is not None else torch.zeros_like(named[g]))
             for g in case.grad}
    return {**out, **grads}


def cases() -> list[Case]:
    import torch

    out: list[Case] = []

    def add(name, seed, dtype, shape, mu_scale=1.0, lv_center=0.0, lv_scale=1.0, grad=False, noncontig=(), note="",
            column_major=False):
        g = torch.Generator().manual_seed(10_000 + seed)         # data; the sampler uses case.seed
        dt = getattr(torch, dtype)
        mu = (torch.randn(*shape, generator=g, dtype=torch.float64) * mu_scale).to(dt)
        logvar = (lv_center + torch.randn(*shape, generator=g, dtype=torch.float64) * lv_scale).to(dt)
        inputs = {"mu": mu, "logvar": logvar}
        if column_major:
            inputs["_column_major"] = True
        grads = ()
        if grad:
            inputs["_up_z"] = torch.randn(tuple(shape), generator=g, dtype=torch.float64).to(dt)
            inputs["_up_kl"] = torch.randn(tuple(shape[:-1]), generator=g, dtype=torch.float64).to(dt)
            grads = ("mu", "logvar")
        out.append(make_case(name, inputs, seed=seed, dtype=dtype, grad=grads, noncontig=tuple(noncontig), note=note))

    t = torch.tensor
    out.append(make_case("readable-example", {"mu": t([[0.0, 1.0], [2.0, -1.0]]), "logvar": t([[0.0, 0.0], [-2.0, 1.0]])},
                         seed=0, dtype="float32", note="the example of the prompt (generator seeded with 0)"))
    out.append(make_case("standard-normal", {"mu": torch.zeros(3, 4), "logvar": torch.zeros(3, 4)}, seed=1,
                         dtype="float32", note="mu = 0, logvar = 0: z = eps exactly and kl = 0"))
    out.append(make_case("readable-grad", {"mu": t([[0.5, -0.5]]), "logvar": t([[0.0, 2.0]]),
                                           "_up_z": torch.ones(1, 2), "_up_kl": torch.ones(1)},
                         seed=2, dtype="float32", grad=("mu", "logvar"),
                         note="gradients of sum(z) + sum(kl): d/dmu = 1 + mu, d/dlogvar = 0.5·std·eps + 0.5·(exp(logvar) - 1)"))
    add("vector", 3, "float32", (5,), note="no batch dimension: kl is a 0-dim tensor")
    add("batch", 4, "float32", (8, 16))
    add("batch-seq", 5, "float32", (2, 3, 6), note="two leading dimensions: kl is (2, 3)")
    add("latent-1", 6, "float32", (7, 1), note="d = 1")
    add("wide-latent", 7, "float32", (4, 128))
    add("float64", 8, "float64", (6, 10))
    add("float64-batch-seq", 9, "float64", (3, 2, 5))
    add("large-logvar", 10, "float32", (4, 8), lv_center=40.0, lv_scale=10.0,
        note="logvar up to ~60: std = exp(logvar / 2) is huge but finite; exp(logvar) in the KL stays below float32's max")
    add("very-negative-logvar", 11, "float32", (4, 8), lv_center=-40.0, lv_scale=5.0,
        note="logvar around -40: std ~ 1e-9, z ~ mu; KL dominated by -logvar")
    add("large-logvar-float64", 12, "float64", (3, 6), lv_center=300.0, lv_scale=50.0, note="logvar in the hundreds")
    add("large-mu", 13, "float32", (4, 8), mu_scale=1e3, note="|mu| ~ 1000: KL ~ mu² / 2")
    add("tiny-values", 14, "float64", (4, 8), mu_scale=1e-6, lv_scale=1e-6, note="q close to N(0, I): kl ~ 1e-12")
    add("noncontiguous", 15, "float32", (4, 6), noncontig=("mu", "logvar"), note="mu and logvar are non-contiguous views")
    add("grad", 16, "float32", (4, 6), grad=True,
        note="gradients w.r.t. mu and logvar flow through both z and kl (the point of the trick)")
    add("grad-float64", 17, "float64", (3, 2, 5), grad=True)
    add("grad-large-logvar", 18, "float64", (2, 4), lv_center=20.0, lv_scale=5.0, grad=True)
    add("grad-noncontiguous", 19, "float32", (3, 5), grad=True, noncontig=("mu", "logvar"))
    add("grad-vector", 20, "float64", (6,), grad=True, note="no batch dimension, with gradients")
    add("column-major", 21, "float32", (5, 3), column_major=True,
        note="mu and logvar are column-major (mu.T.contiguous().T): eps follows mu.shape in row-major order, "
             "torch.randn(mu.shape, ...); torch.empty_like(mu).normal_ keeps the column-major layout and differs")
    add("column-major-grad-float64", 22, "float64", (2, 4, 3), grad=True, column_major=True,
        note="(B, T, d) with the last two axes column-major, with gradients")
    for i, shape in enumerate([(1, 3), (9, 2), (2, 2, 2, 4)]):
        add(f"random-shapes-{i}", 30 + i, "float32" if i % 2 == 0 else "float64", shape)
    return out
