import torch


def alibi_bias(num_heads, q_len, k_len=None):
    """ALiBi (Press et al., 2022): per-head slopes and the attention bias.

    num_heads: int >= 1. q_len >= 1 queries, k_len >= q_len keys (default q_len); the
    queries are the LAST q_len positions: query i sits at position i + k_len - q_len.
    Returns (slopes, bias), float32:
        slopes: (num_heads,)           the published slope rule
        bias:   (num_heads, q_len, k_len), bias[h, i, j] = slopes[h] * (j - (i + k_len - q_len))
    """
    raise NotImplementedError
