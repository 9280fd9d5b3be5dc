import torch


def cross_entropy(logits, targets, ignore_index=-100, label_smoothing=0.0):
    C = logits.shape[-1]
    logits = logits.reshape(-1, C)                                    # (N, C)
    targets = targets.reshape(-1)                                     # (N,)
    logp = logits - torch.logsumexp(logits, dim=-1, keepdim=True)     # (N, C) log-probabilities
    keep = targets != ignore_index                                    # (N,) rows that count
    logp, targets = logp[keep], targets[keep]                         # (n, C), (n,)
    nll = -logp.gather(1, targets[:, None]).squeeze(1)                # (n,) -log p[target]
    uniform = -logp.mean(dim=-1)                                      # (n,) -mean_c log p[c]
    return ((1 - label_smoothing) * nll + label_smoothing * uniform).mean()  # ()
