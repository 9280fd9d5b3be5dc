import torch


def top_p_sample(logits, p, num_samples, generator):
    probs = torch.softmax(logits, dim=-1)                                   # (B, V)
    sorted_p = probs.sort(dim=-1, descending=True).values                   # (B, V)
    before = sorted_p.cumsum(dim=-1) - sorted_p                             # mass strictly before each one
    n_keep = (before < p).sum(dim=-1, keepdim=True)                         # (B, 1), >= 1
    last = sorted_p.gather(-1, n_keep - 1)                                  # (B, 1) prob of the last kept
    kept = torch.where(probs >= last, probs, torch.zeros_like(probs))       # ties with it are kept too
    probs = kept / kept.sum(dim=-1, keepdim=True)                           # renormalise
    samples = torch.multinomial(probs, num_samples, replacement=True, generator=generator)  # (B, n)
    return probs, samples
