import torch


def min_p_sample(logits, prev_tokens, penalty, temperature, min_p, generator):
    seen = torch.zeros_like(logits, dtype=torch.bool).scatter_(1, prev_tokens, True)   # (B, V), each token once
    penalised = torch.where(logits < 0, logits * penalty, logits / penalty)           # CTRL penalty as HF applies it
    z = torch.where(seen, penalised, logits) / temperature                            # (B, V)
    probs = torch.softmax(z, dim=-1)                                                   # (B, V)
    keep = probs >= min_p * probs.amax(dim=-1, keepdim=True)                           # ties with the threshold kept
    probs = torch.where(keep, probs, torch.zeros_like(probs))
    probs = probs / probs.sum(dim=-1, keepdim=True)                                    # renormalise
    tokens = torch.multinomial(probs, 1, generator=generator)[:, 0]                   # (B,) one draw per row
    return probs, tokens
