"""Cases for temperature sampling, and the sampler grading shared with top-k-sampling and
top-p-sampling.

A sampler returns (probs, samples). The worker-side `run` calls it twice with generators
seeded alike, validates the samples, and turns them into per-token counts; the parent-side
`check` then requires
  1. probs equal to the reference within the spec's tolerance,
  2. both runs' samples identical (all randomness must come from the given generator), and
     a third run with another seed different (a fixed private seed is not the generator),
     wherever the reference distribution makes a coincidence less likely than 1e-12,
  3. no token with reference probability 0 ever drawn,
  4. per row, the total-variation distance between the empirical and the reference
     distribution below a bound that a correct sampler exceeds with probability < 1e-12:
     E[TV] <= 1/2 sum_i sqrt(p_i (1 - p_i) / n) (Jensen), and TV of n draws changes by at
     most 1/n when one draw changes, so by McDiarmid P(TV >= E[TV] + t) <= exp(-2 n t^2);
     t = sqrt(ln(1e12) / (2 n)).
"""

import contextlib
import math

from drillcli.fixtures import Case, make_case

RETURNS = ("probs", "samples")
REFERENCE_DTYPE = "float64"
DELTA = 1e-12   # false-failure probability of the statistical test, per row


@contextlib.contextmanager
def only_the_given_generator():
    """While the user's code runs, creating a torch.Generator or seeding or drawing from
    torch's global generator is refused (the prompt: never create or seed one of your own).
    A private generator seeded from the given one is reproducible and seed-sensitive, so
    the statistical checks alone cannot see it."""
    import torch

    from drillcli import guard

    def refuse(what):
        message = f"{what}: draw every random number from the `generator` you are given, never create or seed your own"
        guard.VIOLATIONS.append(message)
        raise guard.ForbiddenCall(message)

    real = torch.Generator

    class Refused(type):
        def __instancecheck__(cls, obj):
            return isinstance(obj, real)

        def __call__(cls, *args, **kwargs):
            refuse("torch.Generator() is refused")

    saved = torch.Generator, torch.manual_seed, torch.random.manual_seed
    torch.Generator = Refused("Generator", (), {})
    torch.manual_seed = torch.random.manual_seed = lambda *args, **kwargs: refuse("torch.manual_seed() is refused")
    global_state = torch.get_rng_state()
    try:
        yield
    finally:
        torch.Generator, torch.manual_seed, torch.random.manual_seed = saved
    if not torch.equal(global_state, torch.get_rng_state()):
        refuse("torch's global random generator was used (a draw without generator=...)")


def sampler_run(entry, case, names):
    """Drive a sampler entry(logits, param, num_samples, generator) twice with the case's seed."""
    import torch

    from drillcli.harness import WrongReturn, build_inputs, check_inputs_unchanged, unpack

    runs = []
    for seed in (case.seed, case.seed, case.seed + 1):
        args, named, _ = build_inputs(case)
        generator = torch.Generator().manual_seed(seed)
        with only_the_given_generator():
            runs.append(unpack(entry(*args, generator), ["probs", "samples"]))
        check_inputs_unchanged(case, named)
    logits, n = args[0], args[2]
    b, v = logits.shape
    samples = runs[0]["samples"]
    if not isinstance(samples, torch.Tensor) or samples.dtype.is_floating_point or samples.dtype == torch.bool \
            or samples.dtype.is_complex:
        raise WrongReturn(f"samples must be an integer torch.Tensor (B, num_samples), got "
                          f"{type(samples).__name__} {getattr(samples, 'dtype', '')}")
    if tuple(samples.shape) != (b, n):
        raise WrongReturn(f"samples must have shape (B, num_samples) = {(b, n)}, got {tuple(samples.shape)}")
    samples = samples.detach().long()
    if samples.numel() and (int(samples.min()) < 0 or int(samples.max()) >= v):
        raise WrongReturn(f"samples must be token ids in [0, {v}), got values from {int(samples.min())} to {int(samples.max())}")
    counts = torch.zeros(b, v, dtype=torch.int64).scatter_add_(1, samples, torch.ones_like(samples))
    def same(other):
        return isinstance(other, torch.Tensor) and tuple(other.shape) == (b, n) and torch.equal(other.detach().long(), samples)

    probs = runs[0]["probs"]
    return {"probs": probs.detach() if isinstance(probs, torch.Tensor) else probs,
            "counts": counts, "reproducible": int(same(runs[1]["samples"])),
            "seed_sensitive": int(not same(runs[2]["samples"]))}


def tv_bound(p, n):
    """TV distance a correct sampler of n draws from p exceeds with probability < DELTA."""
    import numpy as np

    return 0.5 * float(np.sqrt(p * (1 - p) / n).sum()) + math.sqrt(math.log(1 / DELTA) / (2 * n))


def sampler_check(case, got):
    import numpy as np

    from drillcli.compare import Mismatch, tolerance, values_close

    expected = case.outputs["probs"]
    atol, rtol = tolerance(str(expected.dtype))
    try:
        values_close("probs", expected, got["probs"], atol, rtol)
    except Mismatch as m:
        return f"{m.message}\n{m.detail}"
    if int(got["reproducible"]) != 1:
        return ("samples are not reproducible: two runs with generators seeded alike gave different samples\n"
                "draw every random number from `generator` (e.g. torch.multinomial(..., generator=generator))")
    p, counts = expected.astype(np.float64), got["counts"]
    n = int(case.inputs["num_samples"])
    # log P(two independent runs draw the same samples) = n * sum_rows log(sum_i p_i^2)
    with np.errstate(divide="ignore"):
        log_coincidence = n * float(np.log((p ** 2).sum(axis=1)).sum())
    if int(got["seed_sensitive"]) != 1 and log_coincidence < math.log(1e-12):
        return ("samples do not depend on the generator: runs with generators seeded differently gave the same samples\n"
                "use the `generator` you are given; do not create or seed your own")
    banned = (p == 0) & (counts > 0)
    if banned.any():
        row, tok = (int(i) for i in np.argwhere(banned)[0])
        return (f"samples: drew tokens that have probability 0 ({int(counts[banned].sum())} draws)\n"
                f"first: row {row}, token {tok} drawn {int(counts[row, tok])} times; "
                f"allowed tokens of that row: {np.flatnonzero(p[row] > 0).tolist()[:20]}")
    for row in range(p.shape[0]):
        emp = counts[row] / n
        tv, bound = 0.5 * float(np.abs(emp - p[row]).sum()), tv_bound(p[row], n)
        if tv > bound:
            worst = np.argsort(-np.abs(emp - p[row]))[:5]
            pairs = ", ".join(f"token {int(i)}: {emp[i]:.4f} vs {p[row, i]:.4f}" for i in worst)
            return (f"samples do not follow probs: row {row}, total variation {tv:.4f} > {bound:.4f} "
                    f"(a correct sampler exceeds it with probability < {DELTA:g})\n"
                    f"empirical vs expected frequency, largest gaps: {pairs}")
    return None



def run(entry, kind, case, names):
    return sampler_run(entry, case, names)


check = sampler_check


def sampler_case(name, logits, param_name, param, num_samples, seed, note="", noncontig=()):
    dtype = str(logits.dtype).removeprefix("torch.")
    return make_case(name, {"logits": logits, param_name: param, "num_samples": num_samples},
                     seed=seed, dtype=dtype, note=note, noncontig=tuple(noncontig))


def cases() -> list[Case]:
    import torch

    f32, f64 = torch.float32, torch.float64
    out: list[Case] = []

    def rand(name, seed, b, v, t, n=40000, dtype=f32, scale=1.0, note="", noncontig=(), banned=0.0):
        g = torch.Generator().manual_seed(seed)
        logits = torch.randn(b, v, generator=g, dtype=f64) * scale
        if banned:
            drop = torch.rand(b, v, generator=g) < banned
            drop[:, 0] = False
            logits[drop] = float("-inf")
        out.append(sampler_case(name, logits.to(dtype), "temperature", t, n, seed, note, noncontig))

    ex = torch.tensor([[1.0, 2.0, 3.0, 4.0]])
    out.append(sampler_case("readable-t1", ex, "temperature", 1.0, 40000, 1, "temperature 1: plain softmax"))
    out.append(sampler_case("readable-t0.5", ex, "temperature", 0.5, 40000, 2,
                            "the example of the prompt: T < 1 sharpens (logits are divided by T)"))
    out.append(sampler_case("readable-t2", ex, "temperature", 2.0, 40000, 3, "T > 1 flattens"))
    out.append(sampler_case("readable-banned", torch.tensor([[0.5, float("-inf"), 0.5, 1.5], [2.0, 1.0, float("-inf"), 0.0]]),
                            "temperature", 0.8, 40000, 4, "logit -inf = banned token: probability 0, never drawn"))
    rand("batch", 5, 6, 10, 0.7)
    rand("float64", 6, 4, 12, 1.3, dtype=f64)
    rand("vocab-1000", 7, 3, 1000, 1.0, n=5000, note="a realistic vocabulary size")
    rand("near-greedy", 8, 4, 16, 0.05, dtype=f64, note="T = 0.05: logits / T reach ~60, the distribution is nearly one-hot")
    rand("near-greedy-float32", 9, 4, 16, 0.1, note="T = 0.1 in float32")
    rand("near-uniform", 10, 4, 16, 50.0, note="T = 50: nearly uniform")
    rand("tiny-temperature", 31, 4, 16, 0.002, dtype=f64, scale=2.0,
         note="ordinary logits, T = 0.002: logits / T reach the thousands through T alone (subtract the row max)")
    rand("large-logits", 11, 4, 20, 1.0, scale=200.0,
         note="logits in the hundreds: exp() without subtracting the row max overflows float32")
    rand("large-logits-float64", 12, 3, 20, 0.5, scale=500.0, dtype=f64,
         note="logits / T in the thousands: exp() overflows float64 too")
    rand("banned-random", 13, 5, 30, 0.9, banned=0.5, note="about half the tokens have logit -inf")
    rand("banned-float64", 14, 3, 30, 1.7, banned=0.7, dtype=f64)
    rand("one-sample", 15, 4, 10, 1.0, n=1, note="num_samples = 1: samples has shape (B, 1)")
    rand("noncontiguous", 16, 4, 12, 0.8, noncontig=("logits",), note="logits is a non-contiguous view")
    rand("single-row", 17, 1, 40, 1.1)
    out.append(sampler_case("vocab-1", torch.zeros(3, 1), "temperature", 0.7, 500, 18, "V = 1: every draw is token 0"))
    out.append(sampler_case("single-allowed-token", torch.tensor([[float("-inf"), 3.0, float("-inf")]] * 2, dtype=f64),
                            "temperature", 2.0, 1000, 19, "only one finite logit: probability 1"))
    out.append(sampler_case("tied-maxima-low-t", torch.tensor([[5.0, 1.0, 5.0, 4.0, 0.0]]), "temperature", 0.02,
                            40000, 20, "two tied maxima at low T: half the draws each, not argmax"))
    for i, (b, v, t) in enumerate([(2, 7, 0.3), (5, 64, 1.5), (3, 3, 0.9)]):
        rand(f"random-{i}", 21 + i, b, v, t, dtype=f32 if i % 2 == 0 else f64)
    gap_note = ("T = {}: logit gaps of {} make softmax(logits) underflow to 0, while softmax(logits / T) gives those "
                "tokens a real share: applying the temperature to the probabilities (p ** (1 / T)) is not the same")
    out.append(sampler_case("high-t-large-gap", torch.tensor([[0.0, -120.0, -300.0, 5.0, -60.0], [10.0, -200.0, -95.0, 0.0, 8.0]]),
                            "temperature", 100.0, 40000, 24, gap_note.format(100, "100-300")))
    out.append(sampler_case("high-t-large-gap-float64", torch.tensor([[0.0, -800.0, -1500.0, 3.0], [-900.0, 0.0, -400.0, -1200.0]],
                                                                     dtype=f64), "temperature", 400.0, 40000, 25,
                            gap_note.format(400, "800-1500")))
    rand("high-t-wide-logits-float64", 27, 3, 50, 300.0, dtype=f64, scale=600.0, note=gap_note.format(300, "up to 3000"))
    return out
