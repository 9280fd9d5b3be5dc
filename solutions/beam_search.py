import torch


def beam_search(step, prompt, num_beams, max_new_tokens, eos_id, alpha):
    t0 = prompt.shape[0]
    beams = prompt[None, :]                                        # (N, T) live beams; N = 1 at first
    scores = torch.zeros(1, dtype=torch.float64)                   # (N,) summed log-probs
    finished = []                                                  # (generated tokens, normalized score)
    for t in range(1, max_new_tokens + 1):
        logp = torch.log_softmax(step(beams).double(), dim=-1)     # (N, V)
        V = logp.shape[1]
        cand = (scores[:, None] + logp).flatten()                  # (N * V,) index = beam * V + token
        order = torch.sort(cand, descending=True, stable=True).indices   # ties: smaller index first
        rows, toks = [], []
        for i in order.tolist():
            b, tok = divmod(i, V)
            if tok == eos_id:                                      # finished: set aside, normalized
                finished.append((beams[b, t0:].tolist() + [eos_id], cand[i].item() / t ** alpha))
            else:
                rows.append(b)
                toks.append(tok)
            if len(rows) == num_beams:
                break
        new = torch.tensor(toks, dtype=torch.long)
        scores = cand[torch.tensor(rows) * V + new]                # (num_beams,)
        beams = torch.cat([beams[rows], new[:, None]], dim=1)      # (num_beams, T + 1)
        if len(finished) >= num_beams:                             # can any live beam still get in?
            kth = sorted((s for _, s in finished), reverse=True)[num_beams - 1]
            if kth >= scores.max().item() / max_new_tokens ** alpha:
                break
    else:                                                          # budget spent: live beams count as is
        finished += [(beams[b, t0:].tolist(), scores[b].item() / max_new_tokens ** alpha)
                     for b in range(len(beams))]
    return sorted(finished, key=lambda h: -h[1])[:num_beams]      # stable: ties keep insertion order
