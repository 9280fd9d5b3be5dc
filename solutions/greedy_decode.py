import torch


def greedy_decode(step, prompt, max_new_tokens, eos_id, pad_id):
    tokens = prompt                                             # (B, T0)
    done = torch.zeros(prompt.shape[0], dtype=torch.bool)       # (B,) row has emitted EOS
    for _ in range(max_new_tokens):
        if done.all():
            break
        logits = step(tokens)                                   # (B, V)
        nxt = logits.argmax(dim=-1)                             # (B,) first max on ties
        nxt = torch.where(done, torch.full_like(nxt, pad_id), nxt)
        tokens = torch.cat([tokens, nxt[:, None]], dim=1)       # (B, T + 1)
        done = done | (nxt == eos_id)
    return tokens                                               # (B, T0 + steps)
