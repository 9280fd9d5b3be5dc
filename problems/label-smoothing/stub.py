import torch


def label_smoothing_cross_entropy(logits, target, smoothing=0.1, reduction="mean"):
    """Cross-entropy with label smoothing, equal to
    F.cross_entropy(logits, target, label_smoothing=smoothing, reduction=reduction).

    logits: (N, C) or (N, C, d1, ..., dk) float tensor (class axis is dim 1)
    target: (N,) or (N, d1, ..., dk) int64 class indices in [0, C)
    smoothing: eps in [0, 1]; the target distribution is (1 - eps) * onehot + eps / C
    reduction: "mean" (over N * d1 * ... * dk), "sum" or "none" (shape of target)
    """
    raise NotImplementedError
