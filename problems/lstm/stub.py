import torch


def lstm(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    """One-layer LSTM, equal to torch.nn.LSTM with the same weights.

    x:      (T, B, I)  time-major, like nn.LSTM's default (batch_first=False)
    h0, c0: (B, H) or None (zeros)
    W_ih:   (4H, I)   W_hh: (4H, H)   b_ih: (4H,)   b_hh: (4H,)
            rows stacked in PyTorch's gate order: input i, forget f, cell g, output o
    Returns (output (T, B, H), (h_n (B, H), c_n (B, H))).
    """
    raise NotImplementedError
