import torch
import torch.nn.functional as F


def info_nce_loss(a, b, temperature=0.07, symmetric=True):
    a = a / a.norm(dim=1, keepdim=True)                # (N, D) unit rows
    b = b / b.norm(dim=1, keepdim=True)                # (N, D)
    logits = a @ b.T / temperature                     # (N, N) cosine similarities / T
    labels = torch.arange(a.shape[0])                  # positive of row i is column i
    loss_ab = F.cross_entropy(logits, labels)          # a -> b: softmax over each row
    if not symmetric:
        return loss_ab
    loss_ba = F.cross_entropy(logits.T, labels)        # b -> a: softmax over each column
    return (loss_ab + loss_ba) / 2
