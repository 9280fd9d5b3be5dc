import torch
import torch.nn.functional as F


def dpo_loss(policy_chosen_logps, policy_rejected_logps, reference_chosen_logps, reference_rejected_logps,
             beta=0.1, label_smoothing=0.0):
    """The DPO loss (sigmoid / conservative-DPO form) from per-sequence log-probs.

    policy_chosen_logps, policy_rejected_logps:       (B,) log pi_theta(y | x), summed over the response tokens
    reference_chosen_logps, reference_rejected_logps: (B,) the same under the frozen reference model
    beta:            float >= 0, strength of the implicit KL constraint
    label_smoothing: float in [0, 0.5), the probability that a preference label is flipped

    Returns (loss, chosen_rewards, rejected_rewards):
      loss:             0-dim tensor, the mean over the batch of the per-pair losses (differentiable)
      chosen_rewards:   (B,) beta * (policy_chosen_logps - reference_chosen_logps), detached
      rejected_rewards: (B,) beta * (policy_rejected_logps - reference_rejected_logps), detached
    """
    raise NotImplementedError
