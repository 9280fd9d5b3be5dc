import torch


def distillation_loss(student_logits, teacher_logits, labels, T=2.0, alpha=0.5, ignore_index=-100):
    keep = labels != ignore_index                                        # (N,) rows that count
    s, t, y = student_logits[keep], teacher_logits[keep], labels[keep]   # (n, C), (n, C), (n,)
    log_q = torch.log_softmax(s / T, dim=-1)                             # (n, C) student, softened
    log_p = torch.log_softmax(t / T, dim=-1)                             # (n, C) teacher, softened
    kl = (log_p.exp() * (log_p - log_q)).sum(dim=-1).mean()             # KL(p || q): sum over C, mean over rows
    log_probs = torch.log_softmax(s, dim=-1)                             # (n, C) student at T = 1
    ce = -log_probs.gather(1, y[:, None]).squeeze(1).mean()             # hard-label cross-entropy
    return alpha * T ** 2 * kl + (1 - alpha) * ce                        # ()
