"""Cases for logistic regression trained by full-batch gradient descent: the final weights,
bias and the objective recorded at every epoch. The run hook normalises the return types
(b may be any real number type, losses any 1-D sequence)."""

from drillcli.fixtures import Case, make_case

RETURNS = ("w", "b", "losses")


def run(entry, kind, case, names):
    import numpy as np

    from drillcli.harness import WrongReturn, call, check_inputs_unchanged, unpack

    result, named = call(entry, kind, case)
    out = unpack(result, names)
    check_inputs_unchanged(case, named)
    D, epochs = case.inputs["X"].shape[1], case.inputs["epochs"]
    w = np.asarray(out["w"], dtype=np.float64)
    losses = np.asarray(out["losses"], dtype=np.float64)
    if w.shape != (D,):
        raise WrongReturn(f"w must have shape ({D},), got {w.shape}")
    if np.ndim(out["b"]) != 0:
        raise WrongReturn(f"b must be a single number, got shape {np.shape(out['b'])}")
    if losses.shape != (epochs,):
        raise WrongReturn(f"losses must hold one value per epoch, shape ({epochs},), got {losses.shape}")
    return {"w": w, "b": np.asarray(float(out["b"])), "losses": losses}


def cases() -> list[Case]:
    import numpy as np

    out: list[Case] = []

    def add(name, X, y, lr, epochs, l2=0.0, note="", seed=None):
        out.append(make_case(name, {"X": np.asarray(X, dtype=np.float64), "y": np.asarray(y, dtype=np.int64),
                                    "lr": lr, "epochs": epochs, "l2": l2}, seed=seed, dtype="float64", note=note))

    def blobs(seed, n, d, sep=1.0, scale=1.0, p1=0.5):
        rng = np.random.default_rng(seed)
        y = (rng.random(n) < p1).astype(np.int64)
        mu = rng.normal(size=d) * sep
        X = (rng.normal(size=(n, d)) + np.where(y[:, None] == 1, mu, -mu)) * scale
        return X, y

    X0 = [[1.0], [2.0], [-1.0], [-3.0]]
    y0 = [1, 1, 0, 0]
    add("readable-example", X0, y0, 0.5, 3, note="the example of the prompt")
    add("readable-l2", X0, y0, 0.5, 3, l2=0.1, note="l2 = 0.1 on w only, and its term in the recorded objective")
    add("one-epoch", [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], [1, 0, 1], 1.0, 1,
        note="one epoch: losses[0] = log 2 at w = 0, then a single step")
    add("zero-epochs", [[1.0, 2.0], [3.0, 4.0]], [0, 1], 0.1, 0, note="epochs = 0: w = 0, b = 0, no losses")
    add("all-positive", [[0.5], [1.5], [2.0]], [1, 1, 1], 0.3, 10, note="a single class: b grows towards +inf slowly")
    add("single-sample", [[2.0, -1.0, 0.5]], [0], 0.2, 5)
    add("duplicate-points-conflicting-labels", [[1.0], [1.0], [1.0], [-1.0]], [1, 0, 1, 0], 0.5, 20,
        note="the same x with both labels")
    for i, (seed, n, d, lr, ep, l2, sep, p1) in enumerate([
        (1, 50, 2, 0.1, 50, 0.0, 1.0, 0.5),
        (2, 100, 5, 0.5, 30, 0.01, 0.7, 0.5),
        (3, 80, 10, 0.05, 100, 0.1, 0.5, 0.5),
        (4, 200, 3, 1.0, 20, 0.0, 1.5, 0.5),
        (5, 60, 4, 0.2, 40, 0.001, 1.0, 0.15),
        (6, 40, 20, 0.1, 60, 0.05, 0.3, 0.5),
    ]):
        X, y = blobs(seed, n, d, sep, 1.0, p1)
        note = {4: "imbalanced: 15% positives", 5: "D = 20 > N / 2"}.get(i, "")
        add(f"blobs-{i}", X, y, lr, ep, l2, note=note, seed=seed)
    X, y = blobs(9, 10, 3)
    add("zero-epochs-l2", X, y, 0.5, 0, l2=0.5, note="epochs = 0 (with l2): w = zeros(3), b = 0, losses empty (shape (0,))")
    X, y = blobs(7, 60, 3, 3.0, 1.0)
    add("separable-long", X, y, 1.0, 300, note="linearly separable, 300 epochs: ||w|| keeps growing without l2", seed=7)
    X, y = blobs(8, 60, 3, 3.0, 1.0)
    add("separable-l2-converges", X, y, 0.5, 300, l2=0.05, note="l2 keeps the separable problem bounded", seed=8)
    X, y = blobs(9, 40, 2, 2.0, 200.0)
    add("large-features", X, y, 0.01, 30,
        note="features in the hundreds: logits reach +-1800; log(sigmoid) or exp(-z) computed naively overflow", seed=9)
    X, y = blobs(10, 40, 2, 2.0, 1000.0)
    add("huge-features", X, y, 1e-3, 10, l2=0.01, note="features in the thousands: logits reach +-1500", seed=10)
    X, y = blobs(17, 40, 2, 2.0, 1000.0)
    add("logits-ten-thousand", X, y, 1e-2, 10, note="logits reach +-20,000 after the first step", seed=17)
    X, y = blobs(11, 50, 3, 1.0, 1e-3)
    add("tiny-features", X, y, 10.0, 20, note="features around 1e-3 with a large learning rate", seed=11)
    X, y = blobs(12, 30, 4, 1.0, 1.0)
    add("large-lr", X, y, 5.0, 25, l2=0.01, note="lr = 5: big steps, still deterministic", seed=12)
    X, y = blobs(14, 50, 3, 1.0, 1.0)
    add("strong-l2", X, y, 0.3, 40, l2=2.0, note="l2 = 2 dominates: w shrinks towards 0, b still fits the base rate", seed=14)
    X, y = blobs(15, 120, 6, 0.8, 1.0, 0.35)
    add("many-epochs-small-lr", X, y, 0.01, 400, l2=0.01, seed=15)
    X, y = blobs(16, 40, 3, 0.8, 1.0)
    add("converged-l2", X, y, 1.0, 2000, l2=0.1,
        note="2000 epochs: gradient descent reaches the regularised optimum (the scikit-learn solution)", seed=16)
    rng = np.random.default_rng(13)
    X = rng.normal(size=(50, 3)) + np.array([100.0, -50.0, 0.0])
    y = (X[:, 2] > 0).astype(np.int64)
    add("offset-features", X, y, 1e-4, 50, note="features with large offsets (uncentred)", seed=13)
    return out
