import torch


def grpo_loss(logp, old_logp, ref_logp, rewards, mask, beta=0.04, clip_eps=0.2, eps=1e-4):
    """GRPO loss: group-normalised advantages, PPO-clipped ratio, k3 KL penalty to a reference.

    logp:     (..., G, T) per-token log-probs of the sampled completions under the current policy
    old_logp: (..., G, T) the same under the policy that sampled them
    ref_logp: (..., G, T) the same under the frozen reference model
    rewards:  (..., G)    one scalar reward per completion; the G completions of a prompt form a group
    mask:     (..., G, T) bool, True = a real completion token, False = padding
    `...` is () for one prompt or (B,) for B prompts.

    Returns (loss, advantages):
      loss:       0-dim tensor (differentiable w.r.t. logp)
      advantages: (..., G) (rewards - group mean) / (unbiased group std + eps)
    """
    raise NotImplementedError
