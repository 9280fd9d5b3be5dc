import math


def warmup_cosine_lr(step, max_lr, min_lr, warmup_steps, total_steps):
    if step < warmup_steps:                                   # linear warmup: 0 at step 0
        return max_lr * step / warmup_steps
    if step >= total_steps:                                   # after the schedule: stay at the floor
        return min_lr
    progress = (step - warmup_steps) / (total_steps - warmup_steps)   # in [0, 1)
    return min_lr + 0.5 * (max_lr - min_lr) * (1.0 + math.cos(math.pi * progress))
