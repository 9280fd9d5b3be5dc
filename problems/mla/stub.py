import math

import torch


def mla(x, W_dkv, W_uk, W_uv, W_kr, W_q, W_qr, W_o, num_heads, cache_c_kv=None, cache_k_rope=None,
        base=10000.0):
    """Multi-head latent attention (DeepSeek-V2), causal, with a latent cache.

    x: (B, T, d_model), the T new tokens, at positions P .. P + T - 1
    weights (in_features, out_features), used as t @ W:
        W_dkv (d_model, d_c)  W_uk (d_c, H*d_nope)  W_uv (d_c, H*d_v)  W_kr (d_model, d_rope)
        W_q (d_model, H*d_nope)  W_qr (d_model, H*d_rope)  W_o (H*d_v, d_model)
    cache_c_kv: None or (B, P, d_c); cache_k_rope: None or (B, P, d_rope), already rotated
    RoPE: half-split layout, on q_rope and k_rope only; scale 1 / sqrt(d_nope + d_rope).
    Returns (out (B, T, d_model), cache_c_kv (B, P + T, d_c), cache_k_rope (B, P + T, d_rope)).
    """
    raise NotImplementedError
