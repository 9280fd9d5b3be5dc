import torch


def speculative_verify(draft_probs, target_probs, draft_tokens, generator):
    """The verify step of speculative sampling.

    draft_probs: (k, V) float, row i = the draft model's distribution q_i that draft token i was drawn from.
    target_probs: (k + 1, V) float, row i = the target model's distribution p_i at the same position;
        row k = the target's distribution after all k draft tokens (for the bonus token).
    draft_tokens: (k,) int64, the draft model's proposals (k >= 1).
    generator: torch.Generator, the only source of randomness. Draw exactly:
        u = torch.rand(k, generator=generator, dtype=draft_probs.dtype)   (first, one call)
        then one torch.multinomial(weights, 1, generator=generator) on a single length-V row.
    Returns the emitted tokens: a 1-D int64 tensor of length (accepted drafts + 1).
    """
    raise NotImplementedError
