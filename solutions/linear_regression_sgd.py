import numpy as np


def train_linear_regression_sgd(X, y, lr, epochs, batch_size, order):
    """X (N, D), y (N,), order (epochs, N): the permutation of the rows used in each epoch.
    Mini-batch SGD from w = 0, b = 0 on the batch MSE mean((X_b @ w + b - y_b)²).
    Returns (w (D,), b, losses (n_steps,)): the batch loss before each step."""
    N, D = X.shape
    w, b = np.zeros(D), 0.0
    losses = []
    for e in range(epochs):
        for start in range(0, N, batch_size):
            idx = order[e, start:start + batch_size]         # (B,) the last batch may be smaller
            Xb, yb = X[idx], y[idx]                          # (B, D), (B,)
            err = Xb @ w + b - yb                            # (B,) residuals
            losses.append(np.mean(err ** 2))
            grad_w = 2.0 * Xb.T @ err / len(idx)             # (D,) d mean(err²) / dw
            grad_b = 2.0 * err.mean()
            w, b = w - lr * grad_w, b - lr * grad_b          # simultaneous update
    return w, float(b), np.array(losses)
