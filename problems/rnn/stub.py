import torch


def rnn(x, h0, W_ih, W_hh, b_ih, b_hh):
    """One-layer Elman RNN with tanh, equal to torch.nn.RNN with the same weights.

    x:    (T, B, I)  time-major, like nn.RNN's default (batch_first=False)
    h0:   (B, H) or None (zeros)
    W_ih: (H, I)   W_hh: (H, H)   b_ih: (H,)   b_hh: (H,)
    h_t = tanh(x_t @ W_ih.T + b_ih + h_{t-1} @ W_hh.T + b_hh)
    Returns (output (T, B, H) = every h_t, h_n (B, H) = the last one).
    """
    raise NotImplementedError
