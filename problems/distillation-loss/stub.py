import torch


def distillation_loss(student_logits, teacher_logits, labels, T=2.0, alpha=0.5, ignore_index=-100):
    """Knowledge-distillation loss (Hinton et al. 2015).

    student_logits: (N, C) float32 / float64, classes on the last axis
    teacher_logits: (N, C) same dtype (a constant: no gradient is checked for it)
    labels:         (N,)   int64 class indices in [0, C), or ignore_index
    T: temperature > 0; alpha: weight in [0, 1] of the soft (KL) term.

    Returns a 0-dim tensor:
      alpha * T**2 * KL(softmax(teacher / T) || softmax(student / T)) + (1 - alpha) * CE(student, labels)
    where the KL is summed over classes and both terms are averaged over the rows whose label is
    not ignore_index. Differentiable w.r.t. student_logits.
    """
    raise NotImplementedError
