import torch


def grpo_loss(logp, old_logp, ref_logp, rewards, mask, beta=0.04, clip_eps=0.2, eps=1e-4):
    # group-normalised advantages: one scalar per completion, over the G completions of a prompt
    mean = rewards.mean(dim=-1, keepdim=True)                        # (..., 1)
    std = rewards.std(dim=-1, keepdim=True)                          # (..., 1) unbiased (G - 1), torch's default
    advantages = (rewards - mean) / (std + eps)                      # (..., G)
    A = advantages.unsqueeze(-1)                                     # (..., G, 1) broadcast over tokens
    # PPO clipped surrogate, per token
    ratio = torch.exp(logp - old_logp)                               # (..., G, T) pi_theta / pi_old
    clipped = torch.clamp(ratio, 1 - clip_eps, 1 + clip_eps)
    surrogate = torch.min(ratio * A, clipped * A)                    # (..., G, T)
    # k3 estimator of KL(pi_theta || pi_ref), per token
    d = ref_logp - logp
    kl = torch.exp(d) - d - 1                                        # (..., G, T), >= 0
    per_token = -(surrogate - beta * kl)                             # (..., G, T) to minimise
    m = mask.to(logp.dtype)                                          # (..., G, T) 1 = real token
    per_seq = (per_token * m).sum(dim=-1) / m.sum(dim=-1)            # (..., G) mean over each completion's tokens
    return per_seq.mean(), advantages                                # mean over all completions; (), (..., G)
