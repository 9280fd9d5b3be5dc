import torch
import torch.nn.functional as F


def dpo_loss(policy_chosen_logps, policy_rejected_logps, reference_chosen_logps, reference_rejected_logps,
             beta=0.1, label_smoothing=0.0):
    pi_logratios = policy_chosen_logps - policy_rejected_logps            # (B,) log pi(y_w) - log pi(y_l)
    ref_logratios = reference_chosen_logps - reference_rejected_logps     # (B,) same under the reference
    logits = beta * (pi_logratios - ref_logratios)                        # (B,) implicit reward margin
    losses = (-(1 - label_smoothing) * F.logsigmoid(logits)               # (B,) cDPO: the label is flipped
              - label_smoothing * F.logsigmoid(-logits))                  #      with probability label_smoothing
    chosen_rewards = beta * (policy_chosen_logps - reference_chosen_logps).detach()       # (B,)
    rejected_rewards = beta * (policy_rejected_logps - reference_rejected_logps).detach()  # (B,)
    return losses.mean(), chosen_rewards, rejected_rewards               # (), (B,), (B,)
