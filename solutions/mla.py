import math

import torch


def rope(x, positions, base):
    """Half-split RoPE (pairs (i, i + d/2)) of x (..., L, d) at integer positions (L,)."""
    d = x.shape[-1]
    inv_freq = base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)      # (d/2,)
    angles = positions.to(torch.float64)[:, None] * inv_freq                   # (L, d/2)
    cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
    x1, x2 = x[..., : d // 2], x[..., d // 2 :]
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


def mla(x, W_dkv, W_uk, W_uv, W_kr, W_q, W_qr, W_o, num_heads, cache_c_kv=None, cache_k_rope=None,
        base=10000.0):
    B, T, _ = x.shape                                   # T new tokens
    H = num_heads
    P = 0 if cache_c_kv is None else cache_c_kv.shape[1]   # tokens already cached
    S = P + T
    pos = torch.arange(P, S, device=x.device)           # positions of the new tokens

    c_kv = x @ W_dkv                                    # (B, T, d_c)      the only per-token K/V state
    k_rope = rope(x @ W_kr, pos, base)                  # (B, T, d_rope)   one RoPE key shared by all heads
    if cache_c_kv is not None:
        c_kv = torch.cat([cache_c_kv, c_kv], dim=1)     # (B, S, d_c)
        k_rope = torch.cat([cache_k_rope, k_rope], dim=1)   # (B, S, d_rope)

    q_nope = (x @ W_q).reshape(B, T, H, -1).transpose(1, 2)                 # (B, H, T, d_nope)
    q_rope = rope((x @ W_qr).reshape(B, T, H, -1).transpose(1, 2), pos, base)   # (B, H, T, d_rope)
    k_nope = (c_kv @ W_uk).reshape(B, S, H, -1).transpose(1, 2)             # (B, H, S, d_nope)
    v = (c_kv @ W_uv).reshape(B, S, H, -1).transpose(1, 2)                  # (B, H, S, d_v)

    scale = 1.0 / math.sqrt(q_nope.shape[-1] + q_rope.shape[-1])
    scores = (q_nope @ k_nope.transpose(-2, -1)
              + q_rope @ k_rope[:, None].transpose(-2, -1)) * scale         # (B, H, T, S)
    visible = torch.ones(T, S, dtype=torch.bool, device=x.device).tril(diagonal=P)  # token P+i sees 0..P+i
    scores = scores.masked_fill(~visible, float("-inf"))
    out = torch.softmax(scores, dim=-1) @ v                                 # (B, H, T, d_v)
    out = out.transpose(1, 2).reshape(B, T, -1) @ W_o                       # (B, T, d_model)
    return out, c_kv, k_rope
