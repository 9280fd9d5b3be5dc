import torch


def viterbi(emissions, transitions, start=None, end=None):
    """emissions (..., T, K), transitions (K, K) [from, to], start / end (K,) or None.
    Returns (path (..., T) int64, score (...))."""
    K = emissions.shape[-1]
    start = emissions.new_zeros(K) if start is None else start
    end = emissions.new_zeros(K) if end is None else end
    score = start + emissions[..., 0, :]                       # (..., K) best score of a path ending in tag k
    backptrs = []
    for t in range(1, emissions.shape[-2]):
        cand = score.unsqueeze(-1) + transitions               # (..., K_prev, K_next)
        score, prev = cand.max(dim=-2)                         # (..., K); ties -> smallest prev index
        score = score + emissions[..., t, :]
        backptrs.append(prev)
    best, last = (score + end).max(dim=-1)                     # (...), (...); ties -> smallest tag
    path = [last]
    for prev in reversed(backptrs):                            # follow the back-pointers from the end
        last = prev.gather(-1, last.unsqueeze(-1)).squeeze(-1)
        path.append(last)
    return torch.stack(path[::-1], dim=-1), best               # (..., T), (...)
