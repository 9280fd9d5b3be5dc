import torch
import torch.nn as nn


class Embeddings(nn.Module):
    """Token + learned absolute position embeddings (GPT-2 style).

    Parameters (loaded from a state_dict):
      tok_emb: nn.Parameter (vocab_size, d_model)
      pos_emb: nn.Parameter (max_len, d_model)
    forward(idx, start_pos=0): idx (B, L) int64 token ids -> (B, L, d_model);
      token t at position j gets tok_emb[idx[b, j]] + pos_emb[start_pos + j].
    """

    def __init__(self, vocab_size, max_len, d_model):
        super().__init__()
        raise NotImplementedError

    def forward(self, idx, start_pos=0):
        raise NotImplementedError
