import torch


def cross_entropy(logits, targets, ignore_index=-100, label_smoothing=0.0):
    """Mean cross-entropy from raw logits.

    logits:  (..., C) float32 / float64, classes on the LAST axis
    targets: (...)    int64 class indices in [0, C), or ignore_index
    Returns a 0-dim tensor of logits' dtype: the mean loss over the targets that are
    not ignore_index, with torch's label-smoothing convention. Differentiable.
    """
    raise NotImplementedError
