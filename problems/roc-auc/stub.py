import numpy as np


def roc_auc(y_true, y_score):
    """Area under the ROC curve, equal to sklearn.metrics.roc_auc_score(y_true, y_score).

    y_true:  (n,) numpy int64 array of 0 / 1 labels (1 = positive); both classes are present
    y_score: (n,) numpy float array, higher = more likely positive; ties are possible
    Returns a Python float in [0, 1]. Must run in O(n log n): n reaches 100,000.
    """
    raise NotImplementedError
