"""linear-regression-sgd: the reference's trajectory equals torch.optim.SGD on nn.MSELoss over
the same batches on every stored case, and scikit-learn's least-squares solution where the
data are noiseless; correct variants pass, realistic bugs fail."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.linear_model import LinearRegression

from tests.support import assert_rejected, assert_within_half_tolerance, describe, mutate, reference, stored_cases

PROBLEM = "linear-regression-sgd"

CORRECT = {
    "augmented-bias-column": """
        import numpy as np
        def train_linear_regression_sgd(X, y, lr, epochs, batch_size, order):
            N, D = X.shape
            Xa = np.hstack([X, np.ones((N, 1))])
            theta = np.zeros(D + 1)
            losses = []
            for e in range(epochs):
                perm = order[e]
                for s in range(0, N, batch_size):
                    idx = perm[s:s + batch_size]
                    r = Xa[idx] @ theta - y[idx]
                    losses.append(r @ r / len(idx))
                    theta = theta - lr * (2.0 / len(idx)) * (Xa[idx].T @ r)
            return theta[:D], theta[D], np.asarray(losses)
    """,
    "per-sample-accumulation": """
        import numpy as np
        def train_linear_regression_sgd(X, y, lr, epochs, batch_size, order):
            N, D = X.shape
            w, b, losses = np.zeros(D), 0.0, []
            for e in range(epochs):
                batches = [order[e][i:i + batch_size] for i in range(0, N, batch_size)]
                for batch in batches:
                    gw, gb, total = np.zeros(D), 0.0, 0.0
                    for i in batch:
                        r = float(X[i] @ w + b - y[i])
                        total += r * r
                        gw += 2 * r * X[i]
                        gb += 2 * r
                    n = len(batch)
                    losses.append(total / n)
                    w = w - lr * gw / n
                    b = b - lr * gb / n
            return w, b, losses
    """,
    "einsum-half-mse-times-two": """
        import numpy as np
        def train_linear_regression_sgd(X, y, lr, epochs, batch_size, order):
            w, b = np.zeros(X.shape[1]), 0.0
            losses = np.empty(epochs * -(-X.shape[0] // batch_size))
            step = 0
            for perm in order:
                for chunk in np.split(perm, np.arange(batch_size, len(perm), batch_size)):
                    Xb, yb = X[chunk], y[chunk]
                    r = np.einsum("bd,d->b", Xb, w) + b - yb
                    half = 0.5 * np.mean(r ** 2)                  # (1/2) MSE ...
                    losses[step] = 2 * half
                    gw = np.einsum("bd,b->d", Xb, r) / len(chunk)  # ... whose gradient, times 2,
                    gb = r.sum() / len(chunk)                      # is the MSE gradient
                    w, b = w - 2 * lr * gw, b - 2 * lr * gb
                    step += 1
            return w, b, losses
    """,
}

TEMPLATE = """
import numpy as np
def train_linear_regression_sgd(X, y, lr, epochs, batch_size, order):
    N, D = X.shape
    w, b = np.zeros(D), 0.0
    losses = []
    for e in range(epochs):
        for start in RANGE:
            idx = IDX
            Xb, yb = X[idx], y[idx]
            err = Xb @ w + b - yb
            LOSS
            gw = GW
            gb = GB
            UPDATE
    return w, b, np.array(losses)
"""


def variant(rng="range(0, N, batch_size)", idx="order[e, start:start + batch_size]", loss="losses.append(np.mean(err ** 2))",
            gw="2.0 * Xb.T @ err / len(idx)", gb="2.0 * err.mean()", update="w, b = w - lr * gw, b - lr * gb"):
    return (TEMPLATE.replace("RANGE", rng).replace("IDX", idx).replace("LOSS", loss).replace("GW", gw)
            .replace("GB", gb).replace("UPDATE", update))


BUGS = {
    "half-mse-gradient": variant(gw="Xb.T @ err / len(idx)", gb="err.mean()"),
    "drops-last-batch": variant(rng="range(0, N - batch_size + 1, batch_size)"),
    "divides-by-nominal-batch-size": variant(gw="2.0 * Xb.T @ err / batch_size", gb="2.0 * err.sum() / batch_size"),
    "ignores-given-order": variant(idx="np.arange(start, min(start + batch_size, N))"),
    "gradient-sum-not-mean": variant(gw="2.0 * Xb.T @ err", gb="2.0 * err.sum()"),
    "loss-after-step": variant(loss="pass", update="w, b = w - lr * gw, b - lr * gb\n"
                                                   "            losses.append(np.mean((Xb @ w + b - yb) ** 2))"),
    "bias-from-updated-w": variant(gb="0.0", update="w = w - lr * gw\n            b = b - lr * 2.0 * (Xb @ w + b - yb).mean()"),
    "bias-never-updated": variant(update="w = w - lr * gw"),
}
# epochs = 0 is legal: np.stack of an empty list of losses raises
BUGS["losses-stacked"] = mutate(CORRECT["augmented-bias-column"], ("np.asarray(losses)", "np.stack(losses)"))

STATUS = {"drops-last-batch": ("wrong_return",),       # fewer losses than steps: reported as a wrong return
          "losses-stacked": ("error",)}                # np.stack([]) raises when epochs = 0


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass_within_half_tolerance(grade_source, name):
    assert_within_half_tolerance(grade_source(PROBLEM, CORRECT[name]))


def test_template_is_correct(grade_source):
    verdict = grade_source(PROBLEM, variant())
    assert verdict.ok, describe(verdict)


@pytest.mark.parametrize("name", BUGS)
def test_bugs_fail(grade_source, name):
    verdict = grade_source(PROBLEM, BUGS[name])
    assert verdict.status in STATUS.get(name, ("failed",)), describe(verdict)
    assert_rejected(verdict)


def test_reference_matches_torch_sgd_and_sklearn_on_every_case():
    noiseless = 0
    for case in stored_cases(PROBLEM):
        i = case.inputs
        X, y, lr, epochs, B, order = i["X"], i["y"], i["lr"], i["epochs"], i["batch_size"], i["order"]
        w, b, losses = reference(PROBLEM)(X.copy(), y.copy(), lr, epochs, B, order.copy())
        # not bit for bit: BLAS may sum in another order for differently aligned copies
        np.testing.assert_allclose(w, case.outputs["w"], rtol=1e-12, atol=1e-15, err_msg=case.name)
        np.testing.assert_allclose(losses, case.outputs["losses"], rtol=1e-12, atol=1e-15, err_msg=case.name)
        model = torch.nn.Linear(X.shape[1], 1).double()
        with torch.no_grad():
            model.weight.zero_()
            model.bias.zero_()
        opt = torch.optim.SGD(model.parameters(), lr=lr)
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
        seen = []
        for e in range(epochs):
            loader = torch.utils.data.DataLoader(torch.from_numpy(order[e]), batch_size=B, shuffle=False)
            for idx in loader:
                opt.zero_grad()
                loss = torch.nn.functional.mse_loss(model(Xt[idx]).squeeze(1), yt[idx])
                seen.append(loss.item())
                loss.backward()
                opt.step()
        np.testing.assert_allclose(w, model.weight.detach().numpy()[0], rtol=1e-9, atol=1e-10, err_msg=case.name)
        np.testing.assert_allclose(b, model.bias.item(), rtol=1e-9, atol=1e-10, err_msg=case.name)
        np.testing.assert_allclose(losses, seen, rtol=1e-9, atol=1e-12, err_msg=case.name)
        if case.name == "noiseless-converges":
            sk = LinearRegression().fit(X, y)
            np.testing.assert_allclose(w, sk.coef_, rtol=1e-6, atol=1e-8, err_msg=case.name)
            np.testing.assert_allclose(b, sk.intercept_, rtol=1e-6, atol=1e-8, err_msg=case.name)
            noiseless += 1
    assert noiseless == 1
