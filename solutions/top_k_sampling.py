import torch


def top_k_sample(logits, k, num_samples, generator):
    k = min(k, logits.shape[-1])
    kth = torch.topk(logits, k, dim=-1).values[:, -1:]                      # (B, 1) k-th largest logit
    filtered = logits.masked_fill(logits < kth, float("-inf"))              # ties with the k-th are kept
    probs = torch.softmax(filtered, dim=-1)                                 # (B, V)
    samples = torch.multinomial(probs, num_samples, replacement=True, generator=generator)  # (B, n)
    return probs, samples
