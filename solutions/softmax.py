import numpy as np


def softmax(x, axis=-1):
    z = x - x.max(axis=axis, keepdims=True)     # same shape as x; the max of every slice is now 0
    e = np.exp(z)                               # in (0, 1]: cannot overflow
    return e / e.sum(axis=axis, keepdims=True)  # sum has size 1 along axis and broadcasts back


def log_softmax(x, axis=-1):
    z = x - x.max(axis=axis, keepdims=True)                   # same shape as x
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))  # log-sum-exp of z is in [0, log n]
