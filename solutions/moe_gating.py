import torch


def top_k_gating(logits, k):
    E = logits.shape[-1]
    top_logits, indices = logits.topk(k, dim=-1)                # (..., k) each: the k largest logits
    weights = torch.softmax(top_logits, dim=-1)                 # (..., k): softmax over the selected only
    probs = torch.softmax(logits, dim=-1).reshape(-1, E)        # (N, E): router probabilities, all experts
    P = probs.mean(dim=0)                                       # (E,): mean probability per expert
    counts = torch.bincount(indices.reshape(-1), minlength=E)   # (E,): assignments per expert (N*k in all)
    f = counts.to(logits.dtype) / indices.numel()               # (E,): fraction of assignments, sums to 1
    aux_loss = E * (f * P).sum()                                # 1 when perfectly balanced
    return weights, indices, aux_loss
