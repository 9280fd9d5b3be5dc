import torch


def mlp_forward_backward(x, y, W1, b1, W2, b2):
    """Forward and manual backward of a 2-layer MLP with a cross-entropy loss.

    x: (N, D)   y: (N,) int64 class ids in [0, C)
    W1: (H, D)  b1: (H,)   W2: (C, H)  b2: (C,)      (nn.Linear layout: (out, in))
    logits = relu(x @ W1.T + b1) @ W2.T + b2;  loss = mean over the batch of cross-entropy
    Returns (loss (), dW1 (H, D), db1 (H,), dW2 (C, H), db2 (C,)), gradients of loss.
    No autograd: .backward() and torch.autograd are forbidden.
    """
    raise NotImplementedError
