import torch


def huber_loss(input, target, delta=1.0, reduction="mean"):
    r = (input - target).abs()                                       # (...) absolute residual
    loss = torch.where(r < delta, 0.5 * r ** 2, delta * (r - 0.5 * delta))
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss
