"""Cases for top-k sampling. Running and checking are shared with temperature-sampling
(see drillcli/graders/temperature_sampling.py): probs compared with the reference, samples
reproducible from the generator, never outside the top k, and statistically right."""

from drillcli.fixtures import Case
from drillcli.graders.temperature_sampling import sampler_case, sampler_check, sampler_run

RETURNS = ("probs", "samples")
REFERENCE_DTYPE = "float64"

check = sampler_check


def run(entry, kind, case, names):
    return sampler_run(entry, case, names)


def cases() -> list[Case]:
    import torch

    f32, f64 = torch.float32, torch.float64
    inf = float("inf")
    out: list[Case] = []

    def add(name, logits, k, seed, n=40000, note="", noncontig=()):
        out.append(sampler_case(name, logits, "k", k, n, seed, note, noncontig))

    def rand(name, seed, b, v, k, n=40000, dtype=f32, scale=1.0, note="", noncontig=(), banned=0.0, ints=0):
        g = torch.Generator().manual_seed(seed)
        if ints:   # small integers: many exact ties, also at the k-th place
            logits = torch.randint(-ints, ints + 1, (b, v), generator=g).to(f64)
        else:
            logits = torch.randn(b, v, generator=g, dtype=f64) * scale
        if banned:
            drop = torch.rand(b, v, generator=g) < banned
            drop[:, 0] = False
            logits[drop] = -inf
        add(name, logits.to(dtype), k, seed, n, note, noncontig)

    add("readable-k2", torch.tensor([[1.0, 4.0, 2.0, 3.0]]), 2, 1,
        note="the example of the prompt: keep logits 4 and 3, softmax over them")
    add("readable-tie-at-k", torch.tensor([[3.0, 1.0, 3.0, 2.0, 3.0]]), 2, 2,
        note="three logits tie for the top: every token tied with the k-th largest is kept (3 tokens, not 2)")
    add("readable-tie-below-k", torch.tensor([[2.0, 5.0, 2.0, 0.0, 4.0]]), 3, 3,
        note="k = 3: the 3rd largest value 2 appears twice, both are kept")
    add("k-1", torch.tensor([[0.3, 2.0, -1.0, 1.9], [5.0, 5.0, 1.0, 0.0]]), 1, 4,
        note="k = 1 is greedy, except that tied maxima are all kept")
    rand("k-equals-v", 5, 3, 8, 8, note="k = V: no filtering")
    rand("k-above-v", 6, 3, 8, 20, note="k > V: keep everything (torch.topk(logits, k) would raise)")
    rand("k-above-v-float64", 26, 2, 5, 6, dtype=f64, note="k = V + 1: keep everything (clamp k to V first)")
    rand("batch", 7, 6, 12, 4)
    rand("float64", 8, 4, 16, 5, dtype=f64)
    rand("vocab-1000-k50", 9, 3, 1000, 50, n=5000, note="a realistic vocabulary and k")
    rand("vocab-1000-k50-float64", 10, 2, 1000, 50, n=5000, dtype=f64)
    rand("integer-ties", 11, 6, 12, 4, ints=3, note="integer logits: ties at the k-th place in most rows")
    rand("integer-ties-float64", 12, 5, 20, 7, ints=4, dtype=f64)
    rand("large-logits", 13, 4, 20, 6, scale=300.0, note="logits in the hundreds: the softmax must subtract the max")
    rand("large-logits-float64", 14, 3, 20, 6, scale=3000.0, dtype=f64, note="logits in the thousands")
    rand("banned", 15, 5, 30, 8, banned=0.4, note="-inf logits are never kept")
    rand("k-above-finite-count", 16, 4, 10, 9, banned=0.6,
         note="k exceeds the number of finite logits: the k-th largest is -inf, all finite tokens are kept")
    rand("one-sample", 17, 4, 10, 3, n=1, note="num_samples = 1: samples has shape (B, 1)")
    rand("noncontiguous", 18, 4, 12, 3, noncontig=("logits",), note="logits is a non-contiguous view")
    rand("negative-logits", 19, 3, 10, 4, scale=2.0, note="all logits shifted far below 0")
    out[-1].inputs["logits"] = out[-1].inputs["logits"] - 50.0
    add("vocab-1", torch.zeros(2, 1), 1, 20, n=500, note="V = 1: every draw is token 0")
    for i, (b, v, k) in enumerate([(2, 7, 2), (5, 64, 10), (3, 3, 2)]):
        rand(f"random-{i}", 21 + i, b, v, k, dtype=f32 if i % 2 == 0 else f64)
    return out
