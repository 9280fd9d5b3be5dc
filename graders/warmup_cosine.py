"""Cases for the warmup + cosine learning-rate schedule. The run hook calls the entry once
per step of the case's step list (in the order given: the function must be stateless) and
returns the learning rates as one float64 array."""

import numbers
from functools import partial

from drillcli.fixtures import Case, make_case

RETURNS = ("lr",)


def _warmup_from_one(step, max_lr, min_lr, warmup_steps, total_steps, *, denominator_extra=0):
    """The schedule with the warmup counted from step + 1: max_lr * (step + 1) / warmup_steps, or
    nanoGPT's max_lr * (step + 1) / (warmup_steps + 1) with denominator_extra=1."""
    import math

    if step < warmup_steps:
        return max_lr * (step + 1) / (warmup_steps + denominator_extra)
    if step >= total_steps:
        return min_lr
    progress = (step - warmup_steps) / (total_steps - warmup_steps)
    return min_lr + 0.5 * (max_lr - min_lr) * (1.0 + math.cos(math.pi * progress))


NEAR_MISSES = {
    "warmup-from-step-plus-one": ("your output matches a warmup of max_lr * (step + 1) / warmup_steps (max_lr "
                                  "already at step warmup_steps - 1); this problem's warmup is max_lr * step / "
                                  "warmup_steps, 0 at step 0 (see the prompt)", _warmup_from_one),
    "nanogpt-warmup": ("your output matches nanoGPT's warmup, max_lr * (step + 1) / (warmup_steps + 1); this "
                       "problem's warmup is max_lr * step / warmup_steps, 0 at step 0 (see the prompt)",
                       partial(_warmup_from_one, denominator_extra=1)),
}


def run(entry, kind, case, names):
    import numpy as np
    import torch

    from drillcli.harness import WrongReturn

    v = case.inputs
    lrs = []
    for step in np.asarray(v["steps"]).tolist():
        lr = entry(step, v["max_lr"], v["min_lr"], v["warmup_steps"], v["total_steps"])
        if isinstance(lr, torch.Tensor) and lr.dim() == 0:
            lr = lr.item()
        if not isinstance(lr, numbers.Real):
            raise WrongReturn(f"warmup_cosine_lr must return a float, got {type(lr).__name__} at step {step}")
        lrs.append(float(lr))
    return {"lr": np.array(lrs, dtype=np.float64)}


def cases() -> list[Case]:
    import numpy as np

    out: list[Case] = []

    def add(name, steps, max_lr, min_lr, warmup, total, note="", seed=None):
        out.append(make_case(name, {"steps": [int(s) for s in steps], "max_lr": max_lr, "min_lr": min_lr,
                                    "warmup_steps": warmup, "total_steps": total},
                             seed=seed, dtype="float64", note=note))

    def boundaries(w, t):
        return sorted({0, 1, max(w - 1, 0), w, w + 1, (w + t) // 2, max(t - 1, 0), t, t + 1, 2 * t + 5})

    add("readable-0-to-14", range(15), 1.0, 0.1, 4, 12, note="the example of the prompt")
    add("gpt-style", boundaries(2000, 600000) + [1000, 150000, 450000, 10**7], 6e-4, 6e-5, 2000, 600000,
        note="nanoGPT-sized schedule: boundaries at 0, warmup and total, and far past the end")
    add("step-0-is-zero", [0, 1, 2], 3e-4, 3e-5, 10, 100, note="step 0 of a warmup gives lr 0, not max_lr / warmup")
    add("step-equals-warmup", [9, 10, 11], 1e-3, 1e-4, 10, 100,
        note="step == warmup_steps is the first cosine step and gives exactly max_lr")
    add("at-and-after-total", [99, 100, 101, 150, 1000], 1e-3, 1e-4, 10, 100,
        note="step >= total_steps gives min_lr: the cosine must not come back up")
    add("no-warmup", [0, 1, 25, 50, 99, 100], 2e-3, 2e-4, 0, 100, note="warmup_steps = 0: step 0 gives max_lr")
    add("no-warmup-short", [0, 1, 2, 3], 1.0, 0.25, 0, 3, note="warmup_steps = 0 and 3 decay steps")
    add("min-lr-zero", range(0, 41, 2), 1.0, 0.0, 5, 40, note="decay to 0")
    add("min-equals-max", [0, 3, 6, 20, 60], 5e-4, 5e-4, 6, 50, note="min_lr == max_lr: flat after warmup")
    add("warmup-equals-total", [0, 4, 7, 8, 9, 20], 1e-3, 1e-5, 8, 8,
        note="no decay phase: linear up to step 7, min_lr from step 8 (no division by zero)")
    add("warmup-equals-total-long", [0, 50, 99, 100, 101, 500], 3e-4, 0.0, 100, 100,
        note="warmup_steps == total_steps: min_lr (here 0) from step 100 on, never max_lr")
    add("warmup-1", [0, 1, 2, 10], 1e-3, 1e-4, 1, 10, note="warmup of one step: only step 0 is warming up")
    add("decay-of-one-step", [3, 4, 5, 6], 1.0, 0.5, 4, 5, note="total - warmup = 1: step 4 gives max_lr, step 5 min_lr")
    add("midpoint", [55, 30, 80], 2.0, 1.0, 30, 80,
        note="halfway through the decay the lr is exactly (max_lr + min_lr) / 2")
    add("quarter-points", [110, 120, 130, 140], 1.0, 0.0, 100, 140,
        note="cos(pi/4), cos(pi/2), cos(3pi/4): 0.8536, 0.5, 0.1464")
    add("unordered-steps", [70, 3, 200, 0, 45, 10, 99, 1], 1e-3, 1e-4, 10, 100,
        note="steps in random order: the function must not keep a counter between calls")
    add("repeated-step", [20, 20, 20], 1e-3, 1e-4, 10, 100, note="the same step three times gives the same lr")
    add("long-warmup", range(0, 1001, 50), 1e-4, 0.0, 800, 1000)
    add("full-curve", range(0, 121), 1e-3, 1e-5, 20, 120, note="every step of a short schedule")
    add("large-lr", [0, 5, 10, 15, 20, 25], 10.0, 1.0, 5, 25)
    rng = np.random.default_rng(0)
    for i in range(6):
        warmup = int(rng.integers(0, 200))
        total = warmup + int(rng.integers(1, 5000))
        max_lr = float(10.0 ** rng.uniform(-5, -2))
        min_lr = float(max_lr * rng.uniform(0, 0.2))
        steps = rng.integers(0, int(total * 1.3) + 1, size=12)
        add(f"random-{i}", steps, max_lr, min_lr, warmup, total, seed=i)
    return out
