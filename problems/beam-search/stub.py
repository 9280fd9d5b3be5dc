import torch


def beam_search(step, prompt, num_beams, max_new_tokens, eos_id, alpha):
    """Beam search with EOS handling and a length penalty (see the prompt for the exact rules).

    step(tokens: LongTensor (N, T)) -> logits (N, V): next-token logits of N sequences.
    prompt: LongTensor (T0,).
    Returns a list of num_beams (tokens, score) pairs, best first: tokens is the list of
    generated token ids (prompt excluded, EOS included when finished), score the summed
    log-probability divided by len(tokens) ** alpha.
    """
    raise NotImplementedError
