import torch


def temperature_sample(logits, temperature, num_samples, generator):
    """Temperature sampling.

    logits: (B, V) float tensor (may contain -inf); temperature: float > 0;
    num_samples: int; generator: torch.Generator (the only source of randomness).
    Returns (probs, samples): probs (B, V) = softmax(logits / temperature), same dtype
    as logits; samples (B, num_samples) int64 token ids drawn with replacement from probs.
    """
    raise NotImplementedError
