import numpy as np


def train_logistic_regression(X, y, lr, epochs, l2=0.0):
    """Binary logistic regression trained by full-batch gradient descent (numpy).

    X: (N, D) float64   y: (N,) labels in {0, 1}
    Start from w = zeros(D), b = 0.0; each epoch records the objective
        J = mean(BCE(sigmoid(X @ w + b), y)) + l2 / 2 * ||w||²     (bias not regularised)
    then takes one step w -= lr * dJ/dw, b -= lr * dJ/db.
    Returns (w (D,) ndarray, b float, losses (epochs,) ndarray).
    """
    raise NotImplementedError
