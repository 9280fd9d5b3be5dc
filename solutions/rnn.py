import torch


def rnn(x, h0, W_ih, W_hh, b_ih, b_hh):
    """x (T, B, I), h0 (B, H) or None, W_ih (H, I), W_hh (H, H), b_ih / b_hh (H,).
    Returns (output (T, B, H), h_n (B, H))."""
    h = x.new_zeros(x.shape[1], W_hh.shape[0]) if h0 is None else h0    # (B, H)
    outputs = []
    for x_t in x:                                                       # x_t: (B, I)
        h = torch.tanh(x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh)         # (B, H)
        outputs.append(h)
    return torch.stack(outputs), h                                      # (T, B, H), (B, H)
