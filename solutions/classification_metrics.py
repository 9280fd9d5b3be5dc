import numpy as np


def precision_recall_f1(y_true, y_pred, average="binary", pos_label=1, zero_division=0.0):
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    # binary: only the positive class; otherwise every label seen in y_true or y_pred
    labels = np.array([pos_label]) if average == "binary" else np.union1d(y_true, y_pred)
    tp = np.array([np.sum((y_true == c) & (y_pred == c)) for c in labels])   # (K,)
    pred = np.array([np.sum(y_pred == c) for c in labels])                   # (K,) tp + fp
    true = np.array([np.sum(y_true == c) for c in labels])                   # (K,) tp + fn
    if average == "micro":                                                   # pool the counts first
        tp, pred, true = tp.sum(keepdims=True), pred.sum(keepdims=True), true.sum(keepdims=True)

    def ratio(num, den):                                                     # num / den, zero_division where den == 0
        return np.where(den > 0, num / np.maximum(den, 1), zero_division)

    precision, recall = ratio(tp, pred), ratio(tp, true)
    f1 = ratio(2 * tp, pred + true)                                          # = 2 P R / (P + R) when defined
    return float(precision.mean()), float(recall.mean()), float(f1.mean())   # macro: unweighted mean over classes
