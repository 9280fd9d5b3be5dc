"""Cases for linear regression trained by mini-batch SGD in a given row order: final weights,
bias, and the batch loss recorded before every step. The run hook normalises return types."""

from drillcli.fixtures import Case, make_case

RETURNS = ("w", "b", "losses")


def n_steps(case):
    N, B = case.inputs["X"].shape[0], case.inputs["batch_size"]
    return case.inputs["epochs"] * -(-N // B)


def run(entry, kind, case, names):
    import numpy as np

    from drillcli.harness import WrongReturn, call, check_inputs_unchanged, unpack

    result, named = call(entry, kind, case)
    out = unpack(result, names)
    check_inputs_unchanged(case, named)
    D, steps = case.inputs["X"].shape[1], n_steps(case)
    w = np.asarray(out["w"], dtype=np.float64)
    losses = np.asarray(out["losses"], dtype=np.float64)
    if w.shape != (D,):
        raise WrongReturn(f"w must have shape ({D},), got {w.shape}")
    if np.ndim(out["b"]) != 0:
        raise WrongReturn(f"b must be a single number, got shape {np.shape(out['b'])}")
    if losses.shape != (steps,):
        raise WrongReturn(f"losses must hold one value per step: {steps} = epochs x ceil(N / batch_size), "
                          f"got shape {losses.shape} (is the last, smaller batch dropped?)")
    return {"w": w, "b": np.asarray(float(out["b"])), "losses": losses}


def cases() -> list[Case]:
    import numpy as np

    out: list[Case] = []

    def add(name, X, y, lr, epochs, batch_size, order=None, seed=0, note=""):
        X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
        if order is None:
            rng = np.random.default_rng(1000 + seed)
            order = np.stack([rng.permutation(len(X)) for _ in range(epochs)]) if epochs else np.zeros((0, len(X)), int)
        out.append(make_case(name, {"X": X, "y": y, "lr": lr, "epochs": epochs, "batch_size": batch_size,
                                    "order": np.asarray(order, dtype=np.int64).reshape(epochs, len(X))},
                             seed=seed, dtype="float64", note=note))

    def data(seed, n, d, noise=0.1, scale=1.0, offset=0.0):
        rng = np.random.default_rng(seed)
        X = rng.normal(size=(n, d)) * scale + offset
        w = rng.normal(size=d)
        y = X @ w + 0.5 + noise * rng.normal(size=n)
        return X, y

    X0 = [[1.0], [2.0], [3.0], [4.0], [5.0]]
    y0 = [3.0, 5.0, 7.0, 9.0, 11.0]
    add("readable-example", X0, y0, 0.02, 2, 2, order=[[4, 0, 2, 1, 3], [0, 1, 2, 3, 4]],
        note="the example of the prompt: 5 rows, batches of 2, 2 and 1")
    add("readable-full-batch", X0, y0, 0.02, 3, 5, order=[[0, 1, 2, 3, 4]] * 3, note="batch_size = N: gradient descent")
    add("readable-batch-1", X0, y0, 0.01, 1, 1, order=[[2, 0, 4, 1, 3]], note="batch_size = 1: one step per row, in the given order")
    add("batch-larger-than-n", X0, y0, 0.02, 2, 8, seed=1, note="batch_size > N: one batch holding every row")
    add("zero-epochs", X0, y0, 0.1, 0, 2, note="epochs = 0: w = 0, b = 0, no losses")
    add("single-row", [[2.0, -1.0]], [3.0], 0.1, 4, 3, seed=2)
    for i, (seed, n, d, lr, ep, bs, noise) in enumerate([
        (3, 50, 3, 0.05, 5, 8, 0.1),
        (4, 100, 5, 0.01, 10, 16, 0.5),
        (5, 64, 4, 0.05, 4, 16, 0.0),
        (6, 37, 6, 0.02, 6, 5, 0.2),
        (7, 200, 2, 0.1, 3, 32, 1.0),
        (8, 30, 10, 0.01, 20, 7, 0.1),
    ]):
        X, y = data(seed, n, d, noise)
        note = {2: "N divisible by the batch size", 3: "37 rows in batches of 5: the last batch has 2 rows",
                5: "D = 10, batch 7 of 30 rows"}.get(i, "")
        add(f"random-{i}", X, y, lr, ep, bs, seed=seed, note=note)
    X, y = data(17, 12, 3)
    add("zero-epochs-random", X, y, 0.05, 0, 4, seed=17, note="epochs = 0: w = zeros(3), b = 0, losses empty (shape (0,))")
    X, y = data(9, 40, 3, noise=0.0)
    add("noiseless-converges", X, y, 0.05, 300, 8, seed=9,
        note="y is exactly linear: SGD converges to the least-squares solution")
    X, y = data(10, 60, 3, scale=100.0)
    add("large-features", X, y, 1e-5, 5, 10, seed=10, note="features around 100: a small learning rate")
    X, y = data(11, 60, 3, offset=50.0)
    add("offset-features", X, y, 1e-4, 8, 12, seed=11, note="uncentred features (offset 50): the bias learns slowly")
    X, y = data(12, 50, 2)
    y[3] += 100.0
    add("outlier", X, y, 0.01, 5, 10, seed=12, note="one target off by 100: the squared loss is dominated by it")
    X, y = data(13, 45, 4)
    add("same-order-every-epoch", X, y, 0.03, 5, 10, order=np.tile(np.arange(45)[::-1], (5, 1)), seed=13,
        note="the given order is the reversed identity: rows must be taken in this order, not 0..N-1")
    X, y = data(14, 20, 3)
    add("diverging-lr", X, y, 0.6, 3, 4, seed=14, note="a too-large learning rate: the loss grows (still deterministic)")
    X, y = data(16, 25, 3)
    add("last-batch-of-one", X, y, 0.05, 4, 24, seed=16, note="25 rows in batches of 24: the last batch is a single row")
    add("zero-features", np.zeros((12, 2)), np.linspace(-1.0, 3.0, 12), 0.1, 5, 5, seed=17,
        note="X = 0: w never moves, only the bias learns the mean of y")
    X, y = data(15, 80, 1)
    add("one-feature", X, y, 0.1, 6, 9, seed=15)
    return out
