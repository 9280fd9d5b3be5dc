import torch
import torch.nn.functional as F


def focal_loss(logits, targets, alpha=0.25, gamma=2.0, reduction="mean"):
    p = torch.sigmoid(logits)                                                    # (...)
    ce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")   # -log p_t, stable
    p_t = p * targets + (1 - p) * (1 - targets)                                  # prob. of the true class
    loss = ce * (1 - p_t) ** gamma                                               # down-weight easy examples
    if alpha is not None:
        loss = (alpha * targets + (1 - alpha) * (1 - targets)) * loss           # alpha_t
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss
