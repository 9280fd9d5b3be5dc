import torch


def perplexity(logits, targets, pad_id):
    logp = logits - torch.logsumexp(logits, dim=-1, keepdim=True)     # (B, T, V)
    mask = targets != pad_id                                          # (B, T) real tokens
    safe = torch.where(mask, targets, 0)                              # (B, T) pad -> any valid index
    nll = -logp.gather(-1, safe[..., None]).squeeze(-1) * mask        # (B, T), 0 on padding
    ppl = torch.exp(nll.sum() / mask.sum())                           # () token-weighted over the batch
    seq_ppl = torch.exp(nll.sum(dim=1) / mask.sum(dim=1))             # (B,) one per sequence
    return ppl, seq_ppl
