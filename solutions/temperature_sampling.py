import torch


def temperature_sample(logits, temperature, num_samples, generator):
    probs = torch.softmax(logits / temperature, dim=-1)                     # (B, V)
    samples = torch.multinomial(probs, num_samples, replacement=True, generator=generator)  # (B, n)
    return probs, samples
