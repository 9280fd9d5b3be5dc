import numpy as np


def precision_recall_f1(y_true, y_pred, average="binary", pos_label=1, zero_division=0.0):
    """Precision, recall and F1, equal to
    sklearn.metrics.precision_recall_fscore_support(y_true, y_pred, average=average,
                                                    pos_label=pos_label, zero_division=zero_division)[:3].

    y_true, y_pred: (n,) numpy int64 arrays of class labels (any integers)
    average: "binary" (the pos_label class only), "macro" (unweighted mean over classes), "micro" (pooled counts)
    zero_division: 0.0 or 1.0, the value of a ratio whose denominator is 0
    Returns (precision, recall, f1) as Python floats.
    """
    raise NotImplementedError
