import torch


def pack_sequences(seqs, row_len, eos_id, pad_id):
    stream, docs = [], []
    for i, seq in enumerate(seqs):                       # document i, then its EOS
        stream += list(seq) + [eos_id]
        docs += [i] * (len(seq) + 1)
    R = -(-len(stream) // row_len)                       # rows, the last one padded
    n_pad = R * row_len - len(stream)
    tokens = torch.tensor(stream + [pad_id] * n_pad, dtype=torch.long).view(R, row_len)   # (R, L)
    doc_ids = torch.tensor(docs + [-1] * n_pad, dtype=torch.long).view(R, row_len)        # (R, L), -1 = pad
    # position = distance to the first token of the same document piece in this row
    starts = torch.ones_like(doc_ids, dtype=torch.bool)                                    # (R, L)
    starts[:, 1:] = doc_ids[:, 1:] != doc_ids[:, :-1]
    idx = torch.arange(row_len).expand(R, row_len)                                         # (R, L)
    piece_start = torch.where(starts, idx, 0).cummax(dim=1).values                         # (R, L)
    position_ids = torch.where(doc_ids >= 0, idx - piece_start, 0)                         # (R, L)
    causal = torch.ones(row_len, row_len, dtype=torch.bool).tril()                         # (L, L)
    attn_mask = (doc_ids[:, :, None] == doc_ids[:, None, :]) & causal                      # (R, L, L)
    return tokens, doc_ids, position_ids, attn_mask
