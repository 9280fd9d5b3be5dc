import math

import torch


def flash_attention(q, k, v, block_q=64, block_k=64, causal=False):
    *lead, Lq, d = q.shape
    Lk, dv = k.shape[-2], v.shape[-1]
    out = q.new_empty(*lead, Lq, dv)
    for i in range(0, Lq, block_q):
        qi = q[..., i:i + block_q, :] / math.sqrt(d)                  # (..., bq, d)
        bq = qi.shape[-2]
        m = qi.new_full((*lead, bq), float("-inf"))                   # running row max
        l = qi.new_zeros(*lead, bq)                                   # running sum of exp(s - m)
        acc = qi.new_zeros(*lead, bq, dv)                             # running sum of exp(s - m) @ v
        for j in range(0, Lk, block_k):
            if causal and j > i + bq - 1:
                break                                                 # this tile and the next are all in the future
            s = qi @ k[..., j:j + block_k, :].transpose(-2, -1)       # (..., bq, bk): one score tile
            if causal:
                rows = torch.arange(i, i + bq, device=q.device)[:, None]
                cols = torch.arange(j, j + s.shape[-1], device=q.device)[None, :]
                s = s.masked_fill(cols > rows, float("-inf"))
            m_new = torch.maximum(m, s.amax(dim=-1))                  # (..., bq)
            p = torch.exp(s - m_new[..., None])                       # (..., bq, bk)
            alpha = torch.exp(m - m_new)                              # rescales the old sums (0 at the start)
            l = alpha * l + p.sum(dim=-1)
            acc = alpha[..., None] * acc + p @ v[..., j:j + block_k, :]
            m = m_new
        out[..., i:i + bq, :] = acc / l[..., None]
    return out                                                        # (..., Lq, dv)
