import torch


def label_smoothing_cross_entropy(logits, target, smoothing=0.1, reduction="mean"):
    C = logits.shape[1]
    logp = torch.log_softmax(logits, dim=1)                          # (N, C, ...) stable log-probs
    nll = -logp.gather(1, target.unsqueeze(1)).squeeze(1)            # (N, ...) -log p[true class]
    uniform = -logp.sum(dim=1) / C                                   # (N, ...) cross-entropy with uniform 1/C
    loss = (1 - smoothing) * nll + smoothing * uniform               # target q = (1 - eps) onehot + eps / C
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss
