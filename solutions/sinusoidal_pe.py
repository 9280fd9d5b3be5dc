import torch


def sinusoidal_positions(max_len, d_model):
    pos = torch.arange(max_len, dtype=torch.float64)[:, None]                       # (max_len, 1)
    inv_freq = 10000.0 ** (-torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)  # (d_model/2,)
    angles = pos * inv_freq                                                         # (max_len, d_model/2)
    pe = torch.empty(max_len, d_model, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(angles)                                                 # even columns: sin
    pe[:, 1::2] = torch.cos(angles)                                                 # odd columns: cos
    return pe.to(torch.float32)                                                     # (max_len, d_model)
