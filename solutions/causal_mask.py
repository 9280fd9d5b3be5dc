import torch


def causal_mask(seq_len, device=None):
    # (seq_len, seq_len) bool: row i (query) may see columns j <= i (keys up to itself)
    return torch.tril(torch.ones(seq_len, seq_len, dtype=torch.bool, device=device))
