import torch


def focal_loss(logits, targets, alpha=0.25, gamma=2.0, reduction="mean"):
    """Binary (sigmoid) focal loss from logits, as torchvision.ops.sigmoid_focal_loss.

    logits:  (...) float tensor, raw scores (any real value)
    targets: (...) same shape and dtype, 0.0 or 1.0
    alpha:   weight of the positives in [0, 1] (negatives get 1 - alpha), or None for no weighting
    gamma:   focusing parameter >= 0
    reduction: "mean" (over all elements), "sum" or "none" (per-element loss, shape (...))
    """
    raise NotImplementedError
