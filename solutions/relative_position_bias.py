import math

import torch


def relative_position_bucket(rel, bidirectional=True, num_buckets=32, max_distance=128):
    """T5's bucket of each relative position rel = key position - query position."""
    bucket = torch.zeros_like(rel)
    if bidirectional:
        num_buckets //= 2
        bucket += (rel > 0).long() * num_buckets          # keys after the query: the upper half
        n = rel.abs()
    else:
        n = (-rel).clamp(min=0)                           # causal: every future key is distance 0
    max_exact = num_buckets // 2                          # distances 0 .. max_exact-1 get one bucket each
    is_small = n < max_exact
    # the rest: log-spaced from max_exact to max_distance (float32, as in T5), beyond it the last bucket
    large = max_exact + (torch.log(n.float() / max_exact) / math.log(max_distance / max_exact)
                         * (num_buckets - max_exact)).long()
    large = large.clamp(max=num_buckets - 1)
    return bucket + torch.where(is_small, n, large)


def relative_position_bias(q_len, k_len, weight, bidirectional=True, num_buckets=32, max_distance=128):
    q_pos = torch.arange(k_len - q_len, k_len)[:, None]   # (Lq, 1): queries are the last q_len positions
    k_pos = torch.arange(k_len)[None, :]                   # (1, Lk)
    buckets = relative_position_bucket(k_pos - q_pos, bidirectional, num_buckets, max_distance)  # (Lq, Lk)
    bias = weight[buckets].permute(2, 0, 1)                # (Lq, Lk, H) -> (H, Lq, Lk)
    return bias, buckets
