import torch


def min_p_sample(logits, prev_tokens, penalty, temperature, min_p, generator):
    """Repetition penalty, temperature, min-p filtering, then one draw per row.

    logits: (B, V) float32/float64 (may contain -inf); prev_tokens: (B, L) int64 ids already generated (L may be 0);
    penalty: float > 0; temperature: float > 0; min_p: float in [0, 1];
    generator: torch.Generator, the only source of randomness.
    Returns (probs, tokens): probs (B, V), same dtype as logits, the filtered renormalised distribution in
    vocabulary order; tokens (B,) int64 from ONE call torch.multinomial(probs, 1, generator=generator).
    """
    raise NotImplementedError
