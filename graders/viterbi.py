"""Cases for Viterbi decoding.

Most cases hold values on a 1/4 grid (dyadic), so every path score is computed exactly in
float32 and float64 whatever the order of the additions: ties are exact and the stated
tie rule (smallest index) decides the path. The float64 cases with Gaussian values have no
near-ties at float64 resolution, so the best path is unique.
"""

from drillcli.fixtures import Case, make_case

RETURNS = ("path", "score")


def cases() -> list[Case]:
    import torch

    out: list[Case] = []
    f32, f64 = torch.float32, torch.float64

    def grid(g, shape, dtype, scale=2.0):
        """Values on a 1/4 grid in [-scale, scale]: sums are exact, ties are exact."""
        steps = int(4 * scale)
        return (torch.randint(-steps, steps + 1, shape, generator=g) / 4).to(dtype)

    def add(name, inputs, dtype, note="", seed=None, noncontig=()):
        out.append(make_case(name, inputs, seed=seed, dtype=str(dtype).removeprefix("torch."), note=note,
                             noncontig=tuple(noncontig)))

    def add_random(name, seed, dtype, lead, T, K, gauss=False, with_start=True, with_end=True, scale=2.0,
                   note="", noncontig=(), tscale=None):
        g = torch.Generator().manual_seed(seed)
        if gauss:
            draw = lambda *s, sc=1.0: (torch.randn(*s, generator=g, dtype=f64) * sc).to(dtype)  # noqa: E731
        else:
            draw = lambda *s, sc=scale: grid(g, s, dtype, sc)  # noqa: E731
        e = draw(*lead, T, K)
        tr = draw(K, K, sc=tscale or scale) if not gauss else draw(K, K, sc=tscale or 1.0)
        st = draw(K) if with_start else None
        en = draw(K) if with_end else None
        add(name, {"emissions": e, "transitions": tr, "start": st, "end": en}, dtype, note, seed, noncontig)

    add("readable-example", {"emissions": torch.tensor([[1.0, 0.0], [0.0, 2.0], [1.0, 0.0]]),
                             "transitions": torch.tensor([[0.5, -1.0], [-2.0, 1.0]]), "start": None, "end": None},
        f32, "the example of the prompt: the per-position argmax [0, 1, 0] is not the best path")
    add("readable-start-end", {"emissions": torch.tensor([[1.0, 0.0], [0.0, 2.0], [1.0, 0.0]]),
                               "transitions": torch.tensor([[0.5, -1.0], [-2.0, 1.0]]),
                               "start": torch.tensor([2.0, 0.0]), "end": torch.tensor([1.0, 0.0])},
        f32, "start and end scores change the best path to [0, 0, 0]")
    add("readable-ties", {"emissions": torch.zeros(3, 3), "transitions": torch.zeros(3, 3), "start": None, "end": None},
        f32, "every path scores 0: the tie rule gives [0, 0, 0]")
    add("readable-tie-backpointer", {"emissions": torch.tensor([[1.0, 1.0, 0.0], [0.0, 0.0, 3.0]]),
                                     "transitions": torch.zeros(3, 3), "start": None, "end": None},
        f32, "tags 0 and 1 tie at t = 0: the back-pointer of tag 2 must be the smaller index, 0")
    add("single-step", {"emissions": torch.tensor([[0.5, 2.0, -1.0]]), "transitions": torch.zeros(3, 3),
                        "start": torch.tensor([1.0, 0.0, 0.0]), "end": torch.tensor([0.75, 0.0, 3.0])},
        f32, "T = 1: argmax of start + emissions[0] + end")
    add_random("single-tag", 1, f32, (), 5, 1, note="K = 1: the only path is all zeros")
    add_random("no-start-end", 2, f32, (), 6, 4, with_start=False, with_end=False, note="start = end = None (zeros)")
    add_random("start-only", 3, f32, (), 6, 4, with_end=False)
    add_random("end-only", 4, f32, (), 6, 4, with_start=False,
               note="end scores alone: forgetting them changes the last tag")
    add_random("small-grid", 5, f32, (), 8, 3, note="values on a 1/4 grid: exact ties are frequent")
    add_random("strong-transitions", 6, f32, (), 10, 5, tscale=8.0,
               note="transitions dominate the emissions: the path differs a lot from the per-position argmax")
    add_random("batch", 7, f32, (4,), 7, 5, note="a batch of 4 sequences sharing transitions")
    add_random("batch-heads", 8, f32, (2, 3), 6, 4, note="two leading dimensions")
    add_random("long-sequence", 9, f32, (), 200, 8)
    add_random("many-tags", 10, f32, (2,), 12, 40)
    add_random("binary-ties", 11, f32, (3,), 15, 3, scale=0.25, note="values in {-0.25, 0, 0.25}: many exact ties")
    add_random("large-values", 12, f32, (2,), 20, 6, scale=1024.0, note="scores in the thousands (still exact)")
    add_random("float64-gaussian", 13, f64, (), 12, 5, gauss=True)
    add_random("float64-gaussian-batch", 14, f64, (3, 2), 9, 6, gauss=True)
    add_random("float64-grid", 15, f64, (2,), 10, 4)
    add_random("noncontiguous", 16, f32, (2,), 8, 5, noncontig=("emissions", "transitions", "start", "end"),
               note="all tensors are non-contiguous views")
    add_random("noncontiguous-float64", 17, f64, (), 9, 4, gauss=True, noncontig=("emissions", "transitions"))

    # forbidden transitions (-inf), as in BIO tagging: tags O=0, B=1, I=2; O -> I is not allowed, nor starting in I
    g = torch.Generator().manual_seed(18)
    tr = grid(g, (3, 3), f32)
    tr[0, 2] = float("-inf")
    start = torch.tensor([0.0, 0.0, float("-inf")])
    e = grid(g, (2, 9, 3), f32)
    e[..., 2] += 1.0                          # make I attractive so the constraints matter
    add("forbidden-transitions", {"emissions": e, "transitions": tr, "start": start, "end": None}, f32,
        "-inf transitions (O -> I) and a -inf start (I): the path must respect them, the score stays finite", seed=18)

    def log(p):
        """log p on a 2**-20 grid: softmax and log may differ in the last bit between CPUs' vector
        kernels; the grid keeps the stored inputs reproducible everywhere."""
        return torch.round(p.log() * 2**20) / 2**20

    # an HMM: log-probabilities of a 3-state weather model
    g = torch.Generator().manual_seed(19)
    A = torch.softmax(torch.randn(3, 3, generator=g, dtype=f64), dim=-1)
    B = torch.softmax(torch.randn(3, 4, generator=g, dtype=f64), dim=-1)
    pi = torch.softmax(torch.randn(3, generator=g, dtype=f64), dim=-1)
    obs = torch.randint(0, 4, (30,), generator=g)
    add("hmm-log-probabilities", {"emissions": log(B)[:, obs].T.contiguous(), "transitions": log(A),
                                  "start": log(pi), "end": None}, f64,
        "log-probabilities of an HMM over 30 steps: multiplying raw probabilities would underflow "
        "for long sequences; add logs", seed=19)
    g = torch.Generator().manual_seed(20)
    A = torch.softmax(torch.randn(4, 4, generator=g, dtype=f64) * 2, dim=-1)
    B = torch.softmax(torch.randn(4, 6, generator=g, dtype=f64) * 2, dim=-1)
    obs = torch.randint(0, 6, (2, 400), generator=g)
    add("hmm-long-underflow", {"emissions": log(B)[:, obs].permute(1, 2, 0).contiguous(), "transitions": log(A),
                               "start": None, "end": None}, f64,
        "400 steps of log-probabilities: the path probability is ~1e-400, below float64's range", seed=20)
    return out
