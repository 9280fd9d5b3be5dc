import numpy as np


def train_logistic_regression(X, y, lr, epochs, l2=0.0):
    """X (N, D), y (N,) in {0, 1}. Full-batch gradient descent from w = 0, b = 0 on
    J(w, b) = mean BCE(sigmoid(X @ w + b), y) + l2 / 2 * ||w||². Returns (w, b, losses)."""
    N, D = X.shape
    w, b = np.zeros(D), 0.0
    losses = []
    for _ in range(epochs):
        z = X @ w + b                                            # (N,) logits
        loss = np.mean(np.logaddexp(0.0, z) - y * z)             # stable: log(1 + e^z) - y z
        losses.append(loss + 0.5 * l2 * (w @ w))                 # objective before this step
        p = np.exp(-np.logaddexp(0.0, -z))                       # (N,) sigmoid(z), stable
        err = (p - y) / N                                        # (N,) dJ/dz
        w = w - lr * (X.T @ err + l2 * w)                        # the bias is not regularised
        b = b - lr * err.sum()
    return w, float(b), np.array(losses)
