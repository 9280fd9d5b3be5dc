import torch


def viterbi(emissions, transitions, start=None, end=None):
    """Best tag sequence (Viterbi decoding) in log space.

    emissions:   (..., T, K)  emissions[..., t, k] = score of tag k at position t
    transitions: (K, K)       transitions[i, j] = score of moving from tag i to tag j
    start, end:  (K,) or None (None = zeros): score of the first / last tag
    Returns (path, score): path (..., T) int64, score (...) in the dtype of emissions.
    Ties: smallest index (both for back-pointers and for the last tag).
    """
    raise NotImplementedError
