import torch


def pack_sequences(seqs, row_len, eos_id, pad_id):
    """Pack documents into fixed-length rows for pretraining.

    seqs: list of documents, each a list of int token ids (possibly empty).
    Stream = doc0 + [eos_id] + doc1 + [eos_id] + ..., cut into rows of row_len, the last row
    padded with pad_id.
    Returns (tokens, doc_ids, position_ids, attn_mask):
      tokens       (R, row_len) int64
      doc_ids      (R, row_len) int64, index of the document of each token (its EOS included), -1 on padding
      position_ids (R, row_len) int64, 0 at the first token of each document piece in a row, 0 on padding
      attn_mask    (R, row_len, row_len) bool, True = query i may attend key j:
                   j <= i and doc_ids[r, i] == doc_ids[r, j]
    """
    raise NotImplementedError
