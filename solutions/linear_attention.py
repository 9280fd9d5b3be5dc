import torch
import torch.nn.functional as F


def linear_attention(q, k, v, causal=False, eps=1e-6):
    q, k = F.elu(q) + 1, F.elu(k) + 1                                  # φ(q) (..., Lq, d), φ(k) (..., Lk, d)
    if causal:
        kv = torch.cumsum(k.unsqueeze(-1) * v.unsqueeze(-2), dim=-3)    # (..., L, d, dv): Σ_{j<=i} φ(k_j) v_jᵀ
        z = torch.cumsum(k, dim=-2)                                     # (..., L, d):     Σ_{j<=i} φ(k_j)
        num = (q.unsqueeze(-2) @ kv).squeeze(-2)                        # (..., L, dv)
    else:
        kv = k.transpose(-2, -1) @ v                                    # (..., d, dv):    Σ_j φ(k_j) v_jᵀ
        z = k.sum(dim=-2, keepdim=True)                                 # (..., 1, d)
        num = q @ kv                                                    # (..., Lq, dv)
    den = (q * z).sum(dim=-1, keepdim=True)                             # (..., Lq, 1):    φ(q_i)·z_i
    return num / (den + eps)
