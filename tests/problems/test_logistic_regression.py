"""logistic-regression: the reference's trajectory equals torch.optim.SGD on BCEWithLogitsLoss
(weight decay on w only) on every stored case, and scikit-learn's LogisticRegression optimum
where gradient descent has converged; correct variants pass, realistic bugs fail."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from tests.support import assert_rejected, assert_within_half_tolerance, describe, mutate, reference, stored_cases

PROBLEM = "logistic-regression"

CORRECT = {
    "sign-branch-sigmoid": """
        import numpy as np
        def _sigmoid(z):
            out = np.empty_like(z)
            pos = z >= 0
            out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
            e = np.exp(z[~pos])
            out[~pos] = e / (1.0 + e)
            return out
        def train_logistic_regression(X, y, lr, epochs, l2=0.0):
            w, b, losses = np.zeros(X.shape[1]), 0.0, []
            for _ in range(epochs):
                z = X @ w + b
                # -y log p - (1-y) log(1-p) = max(z, 0) - y z + log(1 + exp(-|z|))
                losses.append(np.mean(np.maximum(z, 0) - y * z + np.log1p(np.exp(-np.abs(z)))) + l2 / 2 * np.sum(w * w))
                g = _sigmoid(z) - y
                gw = X.T @ g / len(y) + l2 * w
                gb = g.mean()
                w, b = w - lr * gw, b - lr * gb
            return w, b, np.array(losses)
    """,
    "augmented-bias-column-expit": """
        import numpy as np
        from scipy.special import expit, log_expit
        def train_logistic_regression(X, y, lr, epochs, l2=0.0):
            N, D = X.shape
            Xa = np.hstack([X, np.ones((N, 1))])            # last weight is the bias
            theta = np.zeros(D + 1)
            reg = np.r_[np.full(D, l2), 0.0]                # no penalty on the bias
            losses = np.zeros(epochs)
            for e in range(epochs):
                z = Xa @ theta
                losses[e] = -np.mean(y * log_expit(z) + (1 - y) * log_expit(-z)) + 0.5 * np.sum(reg * theta ** 2)
                theta = theta - lr * (Xa.T @ (expit(z) - y) / N + reg * theta)
            return theta[:D], theta[D], losses
    """,
    "per-sample-loop": """
        import math
        import numpy as np
        def train_logistic_regression(X, y, lr, epochs, l2=0.0):
            N, D = X.shape
            w, b, losses = [0.0] * D, 0.0, []
            for _ in range(epochs):
                gw, gb, total = [0.0] * D, 0.0, 0.0
                for i in range(N):
                    z = sum(X[i, j] * w[j] for j in range(D)) + b
                    total += (max(z, 0.0) + math.log1p(math.exp(-abs(z)))) - y[i] * z
                    p = 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))
                    for j in range(D):
                        gw[j] += (p - y[i]) * X[i, j] / N
                    gb += (p - y[i]) / N
                losses.append(total / N + l2 / 2 * sum(v * v for v in w))
                w = [w[j] - lr * (gw[j] + l2 * w[j]) for j in range(D)]
                b -= lr * gb
            return np.array(w), b, losses
    """,
}

TEMPLATE = """
import numpy as np
def train_logistic_regression(X, y, lr, epochs, l2=0.0):
    N, D = X.shape
    w, b = np.zeros(D), 0.0
    losses = []
    for _ in range(epochs):
        z = X @ w + b
        LOSS
        p = SIGMOID
        err = ERR
        GW
        b = b - lr * err.sum()
    return w, b, np.array(losses)
"""


def variant(loss="losses.append(np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * l2 * (w @ w))",
            sigmoid="np.exp(-np.logaddexp(0.0, -z))", err="(p - y) / N", gw="w = w - lr * (X.T @ err + l2 * w)"):
    return (TEMPLATE.replace("LOSS", loss).replace("SIGMOID", sigmoid).replace("ERR", err).replace("GW", gw))


BUGS = {
    "gradient-sum-not-mean": variant(err="(p - y)"),
    "bias-regularised": variant(gw="w = w - lr * (X.T @ err + l2 * w)\n        b = b - lr * l2 * b"),
    "gradient-sign-flipped": variant(err="(y - p) / N"),
    "loss-recorded-after-step": """
        import numpy as np
        def train_logistic_regression(X, y, lr, epochs, l2=0.0):
            N, D = X.shape
            w, b, losses = np.zeros(D), 0.0, []
            for _ in range(epochs):
                z = X @ w + b
                p = np.exp(-np.logaddexp(0.0, -z))
                err = (p - y) / N
                w, b = w - lr * (X.T @ err + l2 * w), b - lr * err.sum()
                z = X @ w + b
                losses.append(np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * l2 * (w @ w))
            return w, b, np.array(losses)
    """,
    "naive-log-sigmoid": variant(
        loss="p0 = 1 / (1 + np.exp(-z))\n        losses.append(np.mean(-y * np.log(p0) - (1 - y) * np.log(1 - p0)) + 0.5 * l2 * (w @ w))"),
    "l2-missing-from-loss": variant(loss="losses.append(np.mean(np.logaddexp(0.0, z) - y * z))"),
    "pm1-formula-with-01-labels": variant(   # the y in {-1, +1} formulas, fed labels in {0, 1}
        loss="losses.append(np.mean(np.logaddexp(0.0, -y * z)) + 0.5 * l2 * (w @ w))",
        err="-y * np.exp(-np.logaddexp(0.0, y * z)) / N + 0 * p"),
    "l2-gradient-factor-two": variant(gw="w = w - lr * (X.T @ err + 2 * l2 * w)"),
}
# epochs = 0 is legal: np.stack of an empty list of losses raises
BUGS["losses-stacked"] = mutate(CORRECT["sign-branch-sigmoid"], ("np.array(losses)", "np.stack(losses)"))


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass_within_half_tolerance(grade_source, name):
    assert_within_half_tolerance(grade_source(PROBLEM, CORRECT[name]))


def test_template_is_correct(grade_source):
    verdict = grade_source(PROBLEM, variant())
    assert verdict.ok, describe(verdict)


@pytest.mark.parametrize("name", BUGS)
def test_bugs_fail(grade_source, name):
    verdict = grade_source(PROBLEM, BUGS[name])
    assert verdict.status == ("error" if name == "losses-stacked" else "failed"), describe(verdict)
    assert_rejected(verdict)


def test_reference_matches_torch_sgd_and_sklearn_on_every_case():
    converged = 0
    for case in stored_cases(PROBLEM):
        X, y = case.inputs["X"], case.inputs["y"]
        lr, epochs, l2 = case.inputs["lr"], case.inputs["epochs"], case.inputs["l2"]
        w, b, losses = reference(PROBLEM)(X.copy(), y.copy(), lr, epochs, l2)
        # not bit for bit: BLAS may sum in another order for differently aligned copies
        np.testing.assert_allclose(w, case.outputs["w"], rtol=1e-12, atol=1e-15, err_msg=case.name)
        # the same trajectory with torch.optim.SGD (weight decay on w only) and BCEWithLogitsLoss
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y).double()
        wt = torch.zeros(X.shape[1], dtype=torch.float64, requires_grad=True)
        bt = torch.zeros((), dtype=torch.float64, requires_grad=True)
        opt = torch.optim.SGD([{"params": [wt], "weight_decay": l2}, {"params": [bt], "weight_decay": 0.0}], lr=lr)
        seen = []
        for _ in range(epochs):
            opt.zero_grad()
            loss = torch.nn.functional.binary_cross_entropy_with_logits(Xt @ wt + bt, yt)
            seen.append(loss.item() + 0.5 * l2 * (wt @ wt).item())
            loss.backward()
            opt.step()
        np.testing.assert_allclose(w, wt.detach().numpy(), rtol=1e-9, atol=1e-10, err_msg=case.name)
        np.testing.assert_allclose(b, bt.item(), rtol=1e-9, atol=1e-10, err_msg=case.name)
        np.testing.assert_allclose(losses, seen, rtol=1e-9, atol=1e-12, err_msg=case.name)
        # where gradient descent has converged with l2 > 0, it sits at scikit-learn's optimum:
        # sklearn minimises C * sum(logloss) + ||w||² / 2, i.e. the same objective with C = 1 / (l2 * N)
        if l2 > 0 and epochs > 0:
            z = X @ w + b
            p = 1 / (1 + np.exp(-np.clip(z, -700, 700)))
            grad = np.r_[X.T @ (p - y) / len(y) + l2 * w, np.mean(p - y)]
            if np.abs(grad).max() < 1e-7 and len(set(y.tolist())) == 2:
                sk = LogisticRegression(C=1.0 / (l2 * len(y)), tol=1e-12, max_iter=10_000).fit(X, y)
                np.testing.assert_allclose(w, sk.coef_[0], rtol=1e-5, atol=1e-6, err_msg=case.name)
                np.testing.assert_allclose(b, sk.intercept_[0], rtol=1e-5, atol=1e-6, err_msg=case.name)
                converged += 1
    assert converged >= 1
