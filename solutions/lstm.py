import torch


def lstm(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    """x (T, B, I), h0 / c0 (B, H) or None, W_ih (4H, I), W_hh (4H, H), b_ih / b_hh (4H,),
    gates stacked in PyTorch's order i, f, g, o. Returns (output (T, B, H), (h_n, c_n))."""
    B, H = x.shape[1], W_hh.shape[1]
    h = x.new_zeros(B, H) if h0 is None else h0                          # (B, H)
    c = x.new_zeros(B, H) if c0 is None else c0                          # (B, H)
    outputs = []
    for x_t in x:                                                        # x_t: (B, I)
        gates = x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh                  # (B, 4H)
        i, f, g, o = gates.chunk(4, dim=-1)                              # 4 x (B, H)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)      # cell state
        h = torch.sigmoid(o) * torch.tanh(c)                             # hidden state
        outputs.append(h)
    return torch.stack(outputs), (h, c)                                  # (T, B, H), ((B, H), (B, H))
