import torch


def perplexity(logits, targets, pad_id):
    """Perplexity of a language model on a padded batch.

    logits:  (B, T, V) float32 / float64; logits[b, t] is the prediction for targets[b, t]
             (already shifted: do not shift again)
    targets: (B, T) int64; positions equal to pad_id are padding and are ignored
    Returns (ppl, seq_ppl): ppl a 0-dim tensor, exp of the mean NLL over all real tokens of the
    batch; seq_ppl (B,), exp of each sequence's mean NLL. Both in logits' dtype.
    """
    raise NotImplementedError
