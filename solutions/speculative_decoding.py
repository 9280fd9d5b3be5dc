import torch


def speculative_verify(draft_probs, target_probs, draft_tokens, generator):
    k = draft_tokens.shape[0]                                               # draft_probs (k, V), target_probs (k+1, V)
    u = torch.rand(k, generator=generator, dtype=draft_probs.dtype)         # (k,) all uniforms first, one call
    out = []
    for i in range(k):
        x = int(draft_tokens[i])
        if u[i] < target_probs[i, x] / draft_probs[i, x]:                   # accept w.p. min(1, p/q); p/0 = inf, 0/0 = nan
            out.append(x)
            continue
        residual = (target_probs[i] - draft_probs[i]).clamp(min=0)          # (V,) max(0, p - q)
        if residual.sum() == 0:
            residual = target_probs[i]                                      # nothing left over: sample from p
        out.append(int(torch.multinomial(residual, 1, generator=generator)))
        return torch.tensor(out, dtype=torch.long)                          # (i + 1,)
    out.append(int(torch.multinomial(target_probs[k], 1, generator=generator)))  # all accepted: the bonus token
    return torch.tensor(out, dtype=torch.long)                              # (k + 1,)
