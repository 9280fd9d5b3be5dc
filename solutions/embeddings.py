import torch
import torch.nn as nn


class Embeddings(nn.Module):
    def __init__(self, vocab_size, max_len, d_model):
        super().__init__()
        self.tok_emb = nn.Parameter(torch.randn(vocab_size, d_model) * 0.02)   # (V, d)
        self.pos_emb = nn.Parameter(torch.randn(max_len, d_model) * 0.02)      # (T_max, d)

    def forward(self, idx, start_pos=0):                       # idx: (B, L) int64
        L = idx.shape[1]
        assert start_pos + L <= self.pos_emb.shape[0], "sequence longer than max_len"
        tok = self.tok_emb[idx]                                # (B, L, d): one row per token id
        pos = self.pos_emb[start_pos:start_pos + L]            # (L, d): broadcast over the batch
        return tok + pos                                       # (B, L, d)
