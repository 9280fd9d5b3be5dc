import torch


def relative_position_bias(q_len, k_len, weight, bidirectional=True, num_buckets=32, max_distance=128):
    """T5 relative position bias.

    q_len <= k_len; query i sits at position i + k_len - q_len, key j at position j.
    weight: (num_buckets, num_heads), the bias table (T5's relative_attention_bias.weight).
    Returns (bias, buckets):
        bias:    (num_heads, q_len, k_len), dtype of weight: bias[h, i, j] = weight[buckets[i, j], h]
        buckets: (q_len, k_len) int64, T5's bucket of the relative position (key - query)
    """
    raise NotImplementedError
