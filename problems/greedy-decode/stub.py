import torch


def greedy_decode(step, prompt, max_new_tokens, eos_id, pad_id):
    """Greedy decoding.

    step(tokens: LongTensor (B, T)) -> logits (B, V): next-token logits for every row.
    prompt: LongTensor (B, T0).
    Returns a LongTensor (B, T0 + n): the prompt followed by the n generated positions,
    where n <= max_new_tokens; rows that already emitted eos_id are filled with pad_id.
    """
    raise NotImplementedError
