import torch


def causal_mask(seq_len, device=None):
    """Causal (look-ahead) attention mask.

    seq_len: int >= 0.   device: None, a string such as "cpu", or a torch.device.
    Returns a torch.bool tensor of shape (seq_len, seq_len) on `device`:
    mask[i, j] is True iff query i may attend to key j, i.e. iff j <= i.
    """
    raise NotImplementedError
