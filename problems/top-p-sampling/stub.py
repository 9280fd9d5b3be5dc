import torch


def top_p_sample(logits, p, num_samples, generator):
    """Top-p (nucleus) sampling.

    logits: (B, V) float tensor (may contain -inf); p: float in (0, 1];
    num_samples: int; generator: torch.Generator (the only source of randomness).
    Returns (probs, samples): probs (B, V), softmax(logits) restricted to the nucleus and
    renormalised, 0 elsewhere, same dtype as logits; samples (B, num_samples) int64 token
    ids drawn with replacement from probs.
    """
    raise NotImplementedError
