import math

import torch


def _pow2_slopes(n):
    # n a power of two: the geometric sequence 2^(-8/n), 2^(-16/n), ..., 2^(-8)
    return [2.0 ** (-8.0 * (h + 1) / n) for h in range(n)]


def alibi_bias(num_heads, q_len, k_len=None):
    k_len = q_len if k_len is None else k_len
    p = 2 ** math.floor(math.log2(num_heads))             # largest power of two <= num_heads
    # other head counts: the p slopes, then every other slope of the 2p sequence
    slopes = _pow2_slopes(p) + _pow2_slopes(2 * p)[0::2][: num_heads - p]
    slopes = torch.tensor(slopes, dtype=torch.float32)                    # (H,)
    q_pos = torch.arange(k_len - q_len, k_len)                           # (Lq,): queries are the last q_len positions
    rel = torch.arange(k_len)[None, :] - q_pos[:, None]                   # (Lq, Lk): j - i, <= 0 for past keys
    return slopes, slopes[:, None, None] * rel                            # (H,), (H, Lq, Lk)
