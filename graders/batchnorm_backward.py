"""Cases for the manual backward pass of training-mode batch normalization."""

from drillcli.fixtures import Case, make_case

RETURNS = ("dx", "dgamma", "dbeta")
REFERENCE_DTYPE = "float64"


def cases() -> list[Case]:
    import torch

    out: list[Case] = []

    def add(name, seed, dtype, n, d, eps=None, offset=0.0, spread=1.0, gamma_scale=1.0, dout_scale=1.0,
            noncontig=(), dout=None, gamma=None, loc_scale=1.0, note=""):
        g = torch.Generator().manual_seed(seed)
        loc = offset + loc_scale * torch.randn(d, generator=g, dtype=torch.float64)
        x = loc + spread * torch.randn(n, d, generator=g, dtype=torch.float64)
        gm = gamma if gamma is not None else gamma_scale * (1.0 + 0.5 * torch.randn(d, generator=g, dtype=torch.float64))
        beta = 0.5 * torch.randn(d, generator=g, dtype=torch.float64)
        up = dout if dout is not None else dout_scale * torch.randn(n, d, generator=g, dtype=torch.float64)
        dt = getattr(torch, dtype)
        inputs = {"x": x.to(dt), "gamma": gm.to(dt), "beta": beta.to(dt), "dout": up.to(dt)}
        if eps is not None:
            inputs["eps"] = eps
        out.append(make_case(name, inputs, seed=seed, dtype=dtype, noncontig=tuple(noncontig), note=note))

    out.append(make_case("readable-3x2", {
        "x": torch.tensor([[1.0, 2.0], [2.0, 4.0], [3.0, 9.0]]), "gamma": torch.tensor([1.0, 2.0]),
        "beta": torch.tensor([0.0, 0.0]), "dout": torch.tensor([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0]])},
        dtype="float32", note="the example of the prompt"))
    add("batch-8", 1, "float32", 8, 4)
    add("batch-32-wide", 2, "float32", 32, 16)
    add("batch-of-1", 3, "float32", 1, 5,
        note="N = 1: the variance is 0 and x_hat is 0, so dx = 0, dgamma = 0, dbeta = dout")
    add("batch-of-2", 4, "float32", 2, 6, note="N = 2: x_hat is +-1 (up to eps) in every column")
    add("one-feature", 5, "float32", 10, 1)
    add("large-batch", 6, "float32", 256, 3, note="N = 256: sums over many rows")
    add("float64", 7, "float64", 8, 4)
    add("float64-wide", 8, "float64", 16, 32)
    add("custom-eps", 9, "float32", 8, 4, eps=0.1, note="eps = 0.1: inside the sqrt, everywhere inv_std appears")
    add("custom-eps-float64", 10, "float64", 6, 3, eps=1.0, note="a large eps makes its placement visible")
    # the column means are ~1e-3 too: means ~1 would cost float32 x - mean 6e-5 of its digits, most
    # of the tolerance, whatever the formula (large-offset covers that cancellation)
    add("tiny-variance", 11, "float32", 8, 4, spread=1e-3, loc_scale=1e-3, note="variance ~1e-6, below eps = 1e-5")
    add("large-offset", 12, "float32", 16, 4, offset=100.0,
        note="x ~ 100 +- 1: centre x before squaring (a one-pass variance loses its digits)")
    add("large-offset-float64", 13, "float64", 16, 4, offset=1e6)
    add("large-scale", 14, "float32", 12, 5, spread=1e3, note="x in the thousands: dx scales like 1/std")
    add("gamma-zero", 15, "float32", 6, 3, gamma=torch.zeros(3), note="gamma = 0: dx = 0, dgamma and dbeta are not")
    add("constant-upstream", 16, "float32", 7, 3, dout=torch.full((7, 3), 2.5),
        note="dout constant per column: the mean path cancels it, dx = 0")
    add("large-gamma-float64", 17, "float64", 9, 2, gamma_scale=10.0)
    g = torch.Generator().manual_seed(21)
    x = 2.0 + torch.randn(10, 3, generator=g, dtype=torch.float64)
    x_hat = (x - x.mean(0)) / x.std(0, unbiased=False)
    out.append(make_case("upstream-along-x-hat", {
        "x": x, "gamma": torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64), "beta": torch.zeros(3, dtype=torch.float64),
        "dout": 3.0 * x_hat}, seed=21, dtype="float64",
        note="dout proportional to x_hat: the variance path cancels it and dx is ~0 (exactly 0 without eps); "
             "dropping the variance term gives dx = gamma * dout / std"))
    add("noncontiguous", 18, "float32", 8, 6, noncontig=("x", "gamma", "dout"),
        note="x, gamma and dout are non-contiguous views")
    add("noncontiguous-float64", 19, "float64", 5, 4, noncontig=("x", "dout"))
    add("square-n-equals-d", 20, "float32", 6, 6, note="N = D: summing over the wrong axis keeps the shape")
    for i, (n, d, dtype) in enumerate([(3, 7, "float32"), (11, 2, "float64"), (64, 8, "float32")]):
        add(f"random-shape-{i}", 30 + i, dtype, n, d)
    return out
