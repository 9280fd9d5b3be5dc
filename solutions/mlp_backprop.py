import torch


def mlp_forward_backward(x, y, W1, b1, W2, b2):
    """x (N, D), y (N,) int64 class ids, W1 (H, D), b1 (H,), W2 (C, H), b2 (C,).
    Returns (loss, dW1, db1, dW2, db2) for loss = mean cross-entropy of linear -> ReLU -> linear."""
    N = x.shape[0]
    rows = torch.arange(N)
    # forward
    z1 = x @ W1.T + b1                                          # (N, H)
    h = z1.clamp(min=0)                                         # (N, H) ReLU
    logits = h @ W2.T + b2                                      # (N, C)
    logp = logits - logits.logsumexp(dim=-1, keepdim=True)      # (N, C) stable log-softmax
    loss = -logp[rows, y].mean()                                # ()
    # backward
    dlogits = logp.exp()                                        # (N, C) softmax
    dlogits[rows, y] -= 1                                       # softmax - one_hot
    dlogits /= N                                                # the mean over the batch
    dW2 = dlogits.T @ h                                         # (C, H)
    db2 = dlogits.sum(0)                                        # (C,)
    dz1 = (dlogits @ W2) * (z1 > 0)                             # (N, H) ReLU'(0) = 0
    dW1 = dz1.T @ x                                             # (H, D)
    db1 = dz1.sum(0)                                            # (H,)
    return loss, dW1, db1, dW2, db2
