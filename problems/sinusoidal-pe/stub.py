import torch


def sinusoidal_positions(max_len, d_model):
    """Sinusoidal position encodings of "Attention Is All You Need".

    max_len: int >= 0, d_model: even int >= 2.
    Returns a float32 tensor (max_len, d_model) with
        PE[pos, 2i]   = sin(pos / 10000 ** (2i / d_model))
        PE[pos, 2i+1] = cos(pos / 10000 ** (2i / d_model))
    """
    raise NotImplementedError
