"""Cases for top-p (nucleus) sampling. Running and checking are shared with
temperature-sampling (see drillcli/graders/temperature_sampling.py).

Every random case keeps p at least MARGIN away from every cumulative sum of its rows
(computed in float64), so that correct implementations which accumulate in another order
or precision (inclusive vs exclusive sums, float32 vs float64) always keep the same set."""

from drillcli.fixtures import Case
from drillcli.graders.temperature_sampling import sampler_case, sampler_check, sampler_run

RETURNS = ("probs", "samples")
REFERENCE_DTYPE = "float64"
MARGIN = 1e-4

check = sampler_check


def run(entry, kind, case, names):
    return sampler_run(entry, case, names)


def _safe_p(logits, p):
    """p moved up in steps of 2 * MARGIN until no cumulative sum of any row is within MARGIN of it."""
    import torch

    probs = torch.softmax(logits.to(torch.float64), dim=-1)
    csum = probs.sort(dim=-1, descending=True).values.cumsum(-1)
    while p < 1.0 and bool(((csum - p).abs() < MARGIN).any()):
        p = round(p + 2 * MARGIN, 6)
    return p


def cases() -> list[Case]:
    import torch

    f32, f64 = torch.float32, torch.float64
    inf = float("inf")
    out: list[Case] = []

    def add(name, logits, p, seed, n=40000, note="", noncontig=()):
        out.append(sampler_case(name, logits, "p", _safe_p(logits, p), n, seed, note, noncontig))

    def rand(name, seed, b, v, p, n=40000, dtype=f32, scale=1.0, note="", noncontig=(), banned=0.0, ints=0, offset=0.0):
        g = torch.Generator().manual_seed(seed)
        if ints:
            logits = torch.randint(-ints, ints + 1, (b, v), generator=g).to(f64)
        else:
            logits = torch.randn(b, v, generator=g, dtype=f64) * scale + offset
        if banned:
            drop = torch.rand(b, v, generator=g) < banned
            drop[:, 0] = False
            logits[drop] = -inf
        add(name, logits.to(dtype), p, seed, n, note, noncontig)

    add("readable-p0.7", torch.log(torch.tensor([[0.15, 0.5, 0.05, 0.3]])), 0.7, 1,
        note="the example of the prompt: 0.5 < 0.7, 0.5 + 0.3 >= 0.7 -> keep tokens 1 and 3")
    add("readable-first-token-enough", torch.log(torch.tensor([[0.15, 0.5, 0.05, 0.3]])), 0.4, 2,
        note="the most likely token alone already reaches p: only it is kept")
    add("readable-crossing-token-kept", torch.log(torch.tensor([[0.1, 0.6, 0.3]])), 0.65, 3,
        note="0.6 < 0.65: the token that crosses the threshold (0.3) is included")
    add("readable-ties", torch.tensor([[2.0, 1.0, 1.0, 0.0, 1.0]]), 0.5, 4,
        note="probs [0.447, 0.164, 0.164, 0.060, 0.164]: the crossing token is tied with two others, all three are kept")
    add("p-tiny", torch.tensor([[0.5, 2.0, -1.0, 1.0], [3.0, 3.0, 0.0, 1.0]]), 0.01, 5,
        note="p = 0.01: at least one token is kept (and tied maxima together)")
    rand("p-1", 6, 3, 20, 1.0, note="p = 1 keeps every token: no cumulative sum may cut the tail off")
    rand("p-1-float64", 7, 2, 12, 1.0, dtype=f64)
    rand("p-1-wide", 27, 3, 50, 1.0, note="p = 1, V = 50: float32 cumulative sums end just below 1; every token is kept")
    rand("batch", 8, 6, 16, 0.8)
    rand("float64", 9, 4, 16, 0.9, dtype=f64)
    rand("vocab-1000", 10, 3, 1000, 0.9, n=5000, scale=2.0, note="a realistic vocabulary and p = 0.9")
    rand("vocab-1000-float64", 11, 2, 1000, 0.5, n=5000, scale=3.0, dtype=f64)
    rand("peaked", 12, 4, 50, 0.95, scale=4.0, note="a peaked distribution: few tokens make 95%")
    rand("flat", 13, 4, 50, 0.5, scale=0.1, note="a nearly uniform distribution: about half the tokens are kept")
    rand("integer-ties", 14, 6, 12, 0.6, ints=2, note="integer logits: ties at the threshold in many rows")
    rand("integer-ties-float64", 15, 5, 20, 0.75, ints=3, dtype=f64)
    rand("large-logits", 16, 4, 20, 0.9, scale=1.5, offset=300.0,
         note="logits around 300: exp() without subtracting the row max overflows float32")
    rand("large-logits-float64", 17, 3, 20, 0.8, scale=2.0, offset=-2000.0, dtype=f64,
         note="logits around -2000: exp() without subtracting the row max underflows to 0/0")
    rand("banned", 18, 5, 30, 0.85, banned=0.4, note="-inf logits: probability 0, never kept, never drawn")
    rand("one-sample", 19, 4, 10, 0.7, n=1, note="num_samples = 1: samples has shape (B, 1)")
    rand("noncontiguous", 20, 4, 12, 0.75, noncontig=("logits",), note="logits is a non-contiguous view")
    add("vocab-1", torch.zeros(2, 1), 0.5, 21, n=500, note="V = 1: every draw is token 0")
    for i, (b, v, p) in enumerate([(2, 7, 0.3), (5, 64, 0.92), (3, 3, 0.6)]):
        rand(f"random-{i}", 22 + i, b, v, p, dtype=f32 if i % 2 == 0 else f64)
    return out
