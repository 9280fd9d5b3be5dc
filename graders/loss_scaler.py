"""Cases for the dynamic loss scaler. The run hook plays a mixed-precision training loop:
at each step it scales a loss with scale_loss, builds the scaled gradients from the case's
true gradients and the scaler's current scale (rounded through float16 when the case says so,
so that a large scale overflows to inf as in real fp16 training, plus injected inf / NaN),
calls step, and records what came back. `check` reports the earliest step at which any
output differs."""

import numpy as np

from drillcli.fixtures import Case, make_case

RETURNS = ("scaled_losses", "taken", "scales", "grads")
# the spec's tolerances by output dtype, for the step-by-step comparison in `check`
TOLERANCE = {"float32": (1e-6, 1e-5), "float64": (1e-12, 1e-6)}


def check(case, got):
    from drillcli.compare import Mismatch, values_close

    want = case.outputs
    for s in range(len(want["taken"])):
        for name in RETURNS:
            atol, rtol = TOLERANCE.get(str(want[name].dtype), (0.0, 0.0))
            try:
                values_close(f"{name} at step {s}", np.atleast_1d(want[name][s]), np.atleast_1d(got[name][s]), atol, rtol)
            except Mismatch as m:
                return (f"step {s} is the first that differs: {m.message}\n{m.detail}\n"
                        f"step {s} expected taken={int(want['taken'][s])}, scale after it {want['scales'][s]:g}; "
                        f"got taken={int(got['taken'][s])}, scale {got['scales'][s]:g}")
    return None


def run(entry, kind, case, names):
    import torch

    from drillcli.harness import WrongReturn, to_user

    scaler = entry(**case.init)
    true = [to_user(case, k) for k in sorted(k for k in case.inputs if k.startswith("g") and k[1:].isdigit())]
    poison = to_user(case, "_poison")             # (S, 2): per step, tensor index and kind (0 none, 1 inf, 2 -inf, 3 nan)
    losses = to_user(case, "_loss")               # (S,)
    fp16 = case.inputs["_fp16"]
    out = {n: [] for n in names}
    for s in range(losses.shape[0]):
        scale = getattr(scaler, "scale", None)
        if scale is None:
            raise WrongReturn("DynamicLossScaler must keep the current scale in a .scale attribute")
        scale = float(scale)
        out["scaled_losses"].append(float(scaler.scale_loss(losses[s].clone())))
        grads = []
        for g in true:
            scaled = g[s] * scale
            grads.append(scaled.half().float() if fp16 else scaled)
        which, what = int(poison[s, 0]), int(poison[s, 1])
        if what:
            grads[which].view(-1)[0] = (float("inf"), float("-inf"), float("nan"))[what - 1]
        taken = scaler.step(grads)
        if not isinstance(taken, (bool, torch.Tensor)) or isinstance(taken, torch.Tensor) and taken.numel() != 1:
            raise WrongReturn(f"step must return a bool (True = the optimizer step is taken), got {type(taken).__name__}")
        taken = bool(taken)
        out["taken"].append(int(taken))
        out["scales"].append(float(scaler.scale))
        # the unscaled gradients matter only when the step is taken
        flat = torch.cat([g.reshape(-1) for g in grads])
        out["grads"].append(flat if taken else torch.zeros_like(flat))
    return {"scaled_losses": torch.tensor(out["scaled_losses"], dtype=torch.float64),
            "taken": torch.tensor(out["taken"], dtype=torch.int64),
            "scales": torch.tensor(out["scales"], dtype=torch.float64),
            "grads": torch.stack(out["grads"])}


def cases() -> list[Case]:
    import torch

    out: list[Case] = []

    def add(name, seed, steps, init=None, grad_scale=1.0, fp16=False, poison=(), shapes=((3, 4), (5,)), note=""):
        g = torch.Generator().manual_seed(seed)
        inputs = {f"g{i}": (grad_scale * torch.randn(steps, *s, generator=g, dtype=torch.float64)).float()
                  for i, s in enumerate(shapes)}
        p = torch.zeros(steps, 2, dtype=torch.int64)
        for step, which, what in poison:
            p[step] = torch.tensor([which, what])
        inputs |= {"_poison": p, "_loss": torch.rand(steps, generator=g) * 3, "_fp16": fp16}
        out.append(make_case(name, inputs, seed=seed, init=dict(init or {}), dtype="float32", note=note))

    INF, NINF, NAN = 1, 2, 3
    small = {"init_scale": 8.0, "growth_interval": 2}
    add("readable-inf-then-growth", 0, 6, small, poison=[(1, 1, INF), (4, 0, NAN)],
        note="the example of the prompt: scale 8, growth_interval 2; inf at step 1, NaN at step 4")
    add("defaults", 1, 5, None, note="default arguments: scale 65536, no growth within 5 steps")
    add("fp16-overflow-backoff", 2, 12, {"growth_interval": 4}, grad_scale=50.0, fp16=True,
        note="scaled grads overflow float16 at 65536: back off until scale * |g| < 65504, then grow every 4 good steps")
    add("fp16-long-run", 3, 60, {"init_scale": 2.0**20, "growth_interval": 5}, grad_scale=10.0, fp16=True,
        note="60 steps of overflow / back-off / growth cycles")
    add("nan-is-skipped", 4, 4, small, poison=[(2, 0, NAN)], note="a NaN gradient is non-finite too: skip the step")
    add("minus-inf-is-skipped", 5, 4, small, poison=[(1, 1, NINF)])
    add("inf-in-second-tensor", 6, 5, {"init_scale": 4.0, "growth_interval": 3}, poison=[(3, 1, INF)],
        note="only one gradient tensor overflows: the whole step is skipped")
    add("growth-interval-1", 7, 6, {"init_scale": 1.0, "growth_interval": 1}, note="grow after every good step")
    add("growth-count-reset-by-inf", 8, 9, {"init_scale": 16.0, "growth_interval": 3},
        poison=[(2, 0, INF)], note="good, good, inf, good, good, good: growth comes 3 good steps after the inf, not 2")
    add("count-reset-after-growth", 9, 10, {"init_scale": 2.0, "growth_interval": 2},
        note="after growing, count again from 0: growth at steps 1, 3, 5, 7, 9")
    add("custom-factors", 10, 8, {"init_scale": 64.0, "growth_factor": 4.0, "backoff_factor": 0.25, "growth_interval": 2},
        poison=[(3, 0, INF), (4, 1, INF)], note="growth x4 and back-off x0.25: use the arguments, not 2 and 0.5")
    add("non-power-of-two-factors", 11, 8, {"init_scale": 1000.0, "growth_factor": 1.5, "backoff_factor": 0.7,
                                            "growth_interval": 2}, poison=[(2, 1, NAN)],
        note="scales that are not powers of two: unscaling rounds, compared with a tolerance")
    add("every-step-overflows", 12, 8, {"init_scale": 1024.0, "growth_interval": 2},
        poison=[(s, s % 2, INF) for s in range(8)], note="every step skipped: the scale halves each time")
    add("consecutive-infs", 13, 7, {"init_scale": 256.0, "growth_interval": 2}, poison=[(1, 0, INF), (2, 0, INF), (3, 1, NAN)])
    add("zero-gradients", 14, 4, small, grad_scale=0.0, note="all-zero gradients are finite: steps are taken")
    add("large-gradients-no-fp16", 15, 4, {"init_scale": 2.0**16, "growth_interval": 3}, grad_scale=1e5,
        note="float32 scaled gradients of ~6e9 are finite: no overflow without float16")
    add("tiny-gradients-fp16", 16, 10, {"init_scale": 1.0, "growth_interval": 2}, grad_scale=1e-6, fp16=True,
        note="tiny gradients underflow in float16 at scale 1; growth is what rescues them")
    add("one-step", 17, 1, small, note="a single step")
    add("single-tensor", 18, 6, {"init_scale": 32.0, "growth_interval": 2}, poison=[(2, 0, INF)], shapes=((7,),))
    for i in range(3):
        add(f"random-{i}", 20 + i, 25, {"init_scale": 2.0 ** (10 + 4 * i), "growth_interval": 2 + i},
            grad_scale=[30.0, 3.0, 300.0][i], fp16=True,
            poison=[(s, s % 2, 1 + s % 3) for s in range(3 + i, 25, 7)])
    return out
