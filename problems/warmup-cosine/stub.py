def warmup_cosine_lr(step, max_lr, min_lr, warmup_steps, total_steps):
    """Learning rate at `step`: linear warmup from 0 to max_lr, then cosine decay to min_lr.

    step: int >= 0; max_lr >= min_lr >= 0 floats; 0 <= warmup_steps <= total_steps ints.
    Returns a Python float. A pure function of its arguments (no state between calls).
    """
    raise NotImplementedError
