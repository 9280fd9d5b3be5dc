import numpy as np


def train_linear_regression_sgd(X, y, lr, epochs, batch_size, order):
    """Linear regression trained by mini-batch SGD on the mean squared error (numpy).

    X: (N, D) float64   y: (N,) float64
    order: (epochs, N) int, order[e] is the permutation of the rows for epoch e; the batches
           of epoch e are order[e][0:B], order[e][B:2B], ... (the last one may be smaller)
    Start from w = zeros(D), b = 0.0. For every batch: record L = mean((Xb @ w + b - yb) ** 2)
    (no 1/2 factor), then step w -= lr * dL/dw, b -= lr * dL/db.
    Returns (w (D,) ndarray, b float, losses (number of steps,) ndarray).
    """
    raise NotImplementedError
