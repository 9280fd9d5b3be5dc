import torch
import torch.nn.functional as F


def top_k_gating(logits, k):
    """Top-k MoE routing with a Switch-style load-balancing loss.

    logits: (..., E) router logits, one row per token.  k: experts per token, 1 <= k <= E.
    Returns (weights, indices, aux_loss):
      indices  (..., k) int64: the k experts with the largest logits (any order)
      weights  (..., k): softmax over the k selected logits; weights[..., j] goes with indices[..., j]
      aux_loss 0-d tensor: E * sum_i f_i * P_i, with N tokens,
               f_i = (number of the N*k selections that picked expert i) / (N*k),
               P_i = mean over tokens of softmax(logits over all E)[i].
    """
    raise NotImplementedError
