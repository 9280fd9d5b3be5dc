"""Cases for the manual backward pass of layer normalization over the last axis."""

from functools import partial

from drillcli.fixtures import Case, make_case

RETURNS = ("dx", "dgamma", "dbeta")
REFERENCE_DTYPE = "float64"


def _variant(x, gamma, beta, dy, eps=1e-5, *, unbiased=False, eps_outside=False):
    """The compact backward formula with one convention changed, as people write it: the
    unbiased variance (torch.var's default), or eps added to the standard deviation."""
    import warnings

    import torch

    d = x.shape[-1]
    mean = x.mean(dim=-1, keepdim=True)
    with warnings.catch_warnings():   # D = 1: the unbiased variance is 0 / 0 (NaN), as the user's would be
        warnings.simplefilter("ignore")
        var = x.var(dim=-1, keepdim=True, unbiased=unbiased)
    inv_std = 1 / (var.sqrt() + eps) if eps_outside else 1 / torch.sqrt(var + eps)
    x_hat = (x - mean) * inv_std
    g = dy * gamma
    dx = inv_std / d * (d * g - g.sum(-1, keepdim=True) - x_hat * (g * x_hat).sum(-1, keepdim=True))
    return dx, (dy * x_hat).reshape(-1, d).sum(0), dy.reshape(-1, d).sum(0)


NEAR_MISSES = {
    "unbiased-variance": ("your output matches the backward pass with the unbiased variance (divided by D - 1, "
                          "torch.var's default); this problem uses the biased one, divided by D (see the prompt)",
                          partial(_variant, unbiased=True)),
    "eps-outside-sqrt": ("your output matches eps added outside the square root, 1 / (std + eps); this problem "
                         "adds it inside: 1 / sqrt(var + eps) (see the prompt)",
                         partial(_variant, eps_outside=True)),
}


def cases() -> list[Case]:
    import torch

    out: list[Case] = []

    def add(name, seed, dtype, shape, eps=None, offset=0.0, spread=1.0, gamma=None, gamma_scale=1.0, dy=None,
            noncontig=(), note=""):
        g = torch.Generator().manual_seed(seed)
        d = shape[-1]
        x = offset + spread * torch.randn(*shape, generator=g, dtype=torch.float64)
        gm = gamma if gamma is not None else gamma_scale * (1.0 + 0.5 * torch.randn(d, generator=g, dtype=torch.float64))
        beta = 0.5 * torch.randn(d, generator=g, dtype=torch.float64)
        up = dy(x, gm) if callable(dy) else torch.randn(*shape, generator=g, dtype=torch.float64)
        dt = getattr(torch, dtype)
        inputs = {"x": x.to(dt), "gamma": gm.to(dt), "beta": beta.to(dt), "dy": up.to(dt)}
        if eps is not None:
            inputs["eps"] = eps
        out.append(make_case(name, inputs, seed=seed, dtype=dtype, noncontig=tuple(noncontig), note=note))

    out.append(make_case("readable-2x3", {
        "x": torch.tensor([[1.0, 2.0, 3.0], [0.0, 4.0, 8.0]]), "gamma": torch.tensor([1.0, 2.0, -1.0]),
        "beta": torch.zeros(3), "dy": torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]])},
        dtype="float32", note="the example of the prompt"))
    add("vector", 1, "float32", (8,),
        note="x of shape (D,): a single row with no leading axis, so dgamma = dy * x_hat and dbeta = dy")
    add("batch", 2, "float32", (4, 16))
    add("batch-seq", 3, "float32", (2, 5, 32),
        note="x (B, T, D): dgamma and dbeta sum over both leading axes B and T")
    add("batch-heads-seq", 4, "float32", (2, 3, 4, 8), note="4-D x: dgamma and dbeta sum over all three leading axes")
    # D = 2: x_hat = +-sqrt(var / (var + eps)) and dx cancels down to inv_std * (g1 - g2) / 2 * eps / (var + eps),
    # so float32 keeps only the digits inv_std * |g| * 1e-7 allows: seed 45 has no row with a tiny variance
    add("d-equals-2", 45, "float32", (6, 2),
        note="D = 2: biased and unbiased variance differ by 2x, and dx nearly cancels (it is ~eps / var * g)")
    add("d-equals-2-float64", 5, "float64", (6, 2), note="D = 2 with a row of variance 0.003")
    add("d-equals-1", 6, "float32", (5, 1),
        note="D = 1: every row has variance 0 and x_hat = 0, so dx = 0, dgamma = 0 and dbeta = dy summed")
    add("wide", 7, "float32", (3, 512), note="D = 512: sums over long rows")
    add("square-rows-equal-d", 8, "float32", (6, 6),
        note="as many rows as features: summing over the wrong axis keeps the shape (D,)")
    add("float64", 9, "float64", (4, 16))
    add("float64-batch-seq", 10, "float64", (2, 6, 24))
    add("custom-eps", 11, "float32", (4, 16), eps=1e-2, note="eps = 1e-2 passed explicitly: inside the sqrt")
    add("custom-eps-float64", 12, "float64", (3, 8), eps=0.5, note="a large eps makes its placement visible")
    add("eps-0", 13, "float32", (4, 16), eps=0.0, spread=1e-2,
        note="eps = 0.0 is a value, not 'use the default 1e-5': small values make the difference visible")
    add("eps-0-float64", 14, "float64", (3, 8), eps=0.0, note="eps = 0.0: no epsilon at all")
    add("tiny-variance", 15, "float32", (4, 16), spread=1e-3,
        note="variance ~1e-6, below eps = 1e-5: eps inside the sqrt dominates 1/std")
    add("tiny-variance-float64", 16, "float64", (4, 16), spread=1e-4)
    add("large-offset", 17, "float32", (4, 64), offset=30.0,
        note="values around 30: centre x before squaring (a one-pass E[x^2] - E[x]^2 variance loses its digits)")
    add("large-offset-float64", 18, "float64", (4, 64), offset=1e4)
    add("large-scale", 19, "float32", (4, 16), spread=1e3, note="values in the thousands: dx scales like 1/std")
    add("gamma-zero", 20, "float32", (5, 6), gamma=torch.zeros(6, dtype=torch.float64),
        note="gamma = 0: dx = 0, but dgamma and dbeta are not")
    add("large-gamma-float64", 21, "float64", (6, 5), gamma_scale=10.0)
    add("constant-upstream-through-gamma", 22, "float32", (5, 7), dy=lambda x, gm: (2.5 / gm).expand(5, 7),
        note="dy * gamma is the same along each row: the mean path cancels it and dx = 0")

    def along_x_hat(x, gm):
        x_hat = (x - x.mean(-1, keepdim=True)) / x.std(-1, unbiased=False, keepdim=True)
        return 3.0 * x_hat / gm
    add("upstream-along-x-hat", 23, "float64", (4, 10), offset=2.0, dy=along_x_hat,
        note="dy * gamma proportional to x_hat: the variance path cancels it and dx is ~0 (exactly 0 without "
             "eps); dropping the variance term gives dx = dy * gamma / std")
    add("noncontiguous", 24, "float32", (3, 4, 16), noncontig=("x", "gamma", "dy"),
        note="x, gamma and dy are non-contiguous views")
    add("noncontiguous-float64", 25, "float64", (5, 8), noncontig=("x", "dy"))
    add("empty-batch", 26, "float32", (0, 4),
        note="no rows at all (leading size 0): dx is (0, D), dgamma and dbeta are zeros of shape (D,)")

    g = torch.Generator().manual_seed(27)
    x = torch.randn(3, 8, generator=g)
    x[1] = 2.5   # a constant row: var = 0, x_hat = 0, 1/std = 1/sqrt(eps)
    out.append(make_case("constant-row", {"x": x, "gamma": 1.0 + 0.5 * torch.randn(8, generator=g),
                                          "beta": torch.randn(8, generator=g), "dy": torch.randn(3, 8, generator=g)},
                         seed=27, dtype="float32",
                         note="row 1 is constant: variance 0, x_hat = 0 and only eps keeps 1/std finite"))
    for i, shape in enumerate([(7, 3), (1, 1, 5), (2, 2, 2, 6)]):
        add(f"random-shape-{i}", 30 + i, "float32" if i % 2 == 0 else "float64", shape)
    return out
