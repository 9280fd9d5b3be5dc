"""Cases for infonce: CLIP-style InfoNCE over a batch of paired embeddings, values and gradients."""

from drillcli.fixtures import Case, make_case

RETURNS = ("loss",)
REFERENCE_DTYPE = "float64"


def _dot_product(a, b, temperature=0.07, symmetric=True):
    """InfoNCE on raw dot products: the embeddings are not L2-normalised."""
    import torch
    import torch.nn.functional as F

    logits = a @ b.T / temperature
    labels = torch.arange(a.shape[0])
    loss_ab = F.cross_entropy(logits, labels)
    return (loss_ab + F.cross_entropy(logits.T, labels)) / 2 if symmetric else loss_ab


NEAR_MISSES = {
    "dot-product": ("your output matches InfoNCE on raw dot products (embeddings not normalised); this problem "
                    "uses cosine similarities, each row L2-normalised before a @ b.T (see the prompt)", _dot_product),
}


def cases() -> list[Case]:
    import torch

    out: list[Case] = []
    f64 = torch.float64

    def add(name, a, b, temperature=0.07, symmetric=True, seed=None, note="", grad=False, noncontig=(),
            upstream_seed=0):
        inputs = {"a": a, "b": b.to(a.dtype), "temperature": temperature, "symmetric": symmetric}
        if grad:
            g = torch.Generator().manual_seed(4000 + upstream_seed)
            inputs["_upstream"] = torch.randn((), generator=g, dtype=f64).to(a.dtype)
        out.append(make_case(name, inputs, seed=seed, dtype=str(a.dtype).removeprefix("torch."), note=note,
                             grad=("a", "b") if grad else (), noncontig=tuple(noncontig)))

    def pairs(seed, n, d, dtype=torch.float32, noise=0.5, scale=1.0):
        """b is a noisy copy of a: positives are more similar than negatives, as after some training.
        scale: one number for a and b, or an (a, b) pair."""
        scale_a, scale_b = scale if isinstance(scale, tuple) else (scale, scale)
        g = torch.Generator().manual_seed(seed)
        a = torch.randn(n, d, generator=g, dtype=f64)
        b = a + noise * torch.randn(n, d, generator=g, dtype=f64)
        s = scale_a * torch.exp(torch.randn(n, 1, generator=g, dtype=f64))   # rows of different norms
        return (a * s).to(dtype), (b * scale_b).to(dtype)

    a = torch.tensor([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    b = torch.tensor([[2.0, 0.0], [0.0, 1.0], [-1.0, 1.0]])
    add("readable-3x2", a, b, temperature=0.5, note="the example of the prompt (temperature 0.5, symmetric)")
    add("readable-3x2-one-way", a, b, temperature=0.5, symmetric=False,
        note="the example of the prompt, a -> b only (rows of the logits)")
    add("random-symmetric", *pairs(1, 8, 16), seed=1)
    add("random-one-way", *pairs(2, 8, 16), symmetric=False, seed=2)
    add("temperature-1", *pairs(3, 6, 8), temperature=1.0, seed=3)
    add("batch-of-2", *pairs(4, 2, 5), temperature=0.1, seed=4, note="two pairs: one negative each")
    add("batch-of-1", *pairs(5, 1, 4), seed=5, note="a single pair: no negatives, the loss is 0")
    add("dim-1", *pairs(6, 5, 1), temperature=0.2, seed=6, note="D = 1: cosine similarities are +-1")
    add("large-batch", *pairs(7, 64, 32), seed=7)
    add("float64", *pairs(8, 10, 12, f64), seed=8)
    add("float64-one-way", *pairs(9, 7, 6, f64), temperature=0.2, symmetric=False, seed=9)
    add("unnormalised-large-norms", *pairs(10, 6, 8, scale=300.0), temperature=0.1, seed=10,
        note="embeddings with norms in the hundreds: cosine similarity needs the L2 normalisation")
    add("tiny-norms", *pairs(11, 6, 8, scale=1e-3), seed=11, note="embeddings with norms ~1e-3")
    # each of a and b alone at the stated edges of the norms (1e-3, hundreds), the other ordinary
    # (the gradient through a norm of 1e-3 is scaled by 1e3: float32 gradients there differ by more than
    # the tolerance between correct formulations, so the tiny-norm gradient case is float64)
    add("tiny-norms-a-only", *pairs(23, 6, 8, scale=(1e-3, 1.0)), seed=23,
        note="only a has norms ~1e-3 (b ordinary): normalise each input by its own row norms")
    add("tiny-norms-b-only", *pairs(24, 6, 8, f64, scale=(1.0, 1e-3)), symmetric=False, seed=24, grad=True,
        upstream_seed=6, note="only b has norms ~1e-3 (a ordinary), float64 with gradients")
    add("large-norms-a-only", *pairs(25, 6, 8, f64, scale=(300.0, 1.0)), temperature=0.1, seed=25,
        note="only a has norms in the hundreds (b ordinary)")
    add("large-norms-b-only", *pairs(26, 6, 8, scale=(1.0, 300.0)), temperature=0.1, seed=26, grad=True,
        upstream_seed=7, note="only b has norms in the hundreds (a ordinary)")
    add("cold-temperature", *pairs(12, 8, 8, noise=2.0), temperature=0.001, seed=12,
        note="temperature 0.001: logits up to 1000, exp() overflows without subtracting the max")
    add("cold-temperature-float64", *pairs(13, 8, 8, f64, noise=2.0), temperature=1e-4, seed=13,
        note="temperature 1e-4 in float64: logits up to 1e4")
    add("asymmetric-batch", *pairs(14, 5, 3, noise=3.0), temperature=0.3, seed=14,
        note="a -> b and b -> a losses differ: the symmetric loss averages both directions")
    g = torch.Generator().manual_seed(15)
    a = torch.randn(4, 6, generator=g)
    add("identical-pairs", a, a.clone(), temperature=0.1, seed=15, note="b == a")
    add("duplicate-rows", torch.ones(3, 4), torch.ones(3, 4), temperature=0.5,
        note="all embeddings equal: every logit ties, the loss is log(N)")
    add("noncontiguous", *pairs(16, 6, 5), seed=16, noncontig=("a", "b"), note="a and b are non-contiguous views")
    add("grad-symmetric", *pairs(17, 5, 4), temperature=0.2, seed=17, grad=True,
        note="gradients w.r.t. a and b flow through the normalisation")
    add("grad-one-way", *pairs(18, 4, 6), temperature=0.1, symmetric=False, seed=18, grad=True, upstream_seed=1)
    add("grad-float64", *pairs(19, 6, 3, f64), temperature=0.5, seed=19, grad=True, upstream_seed=2)
    add("grad-large-norms", *pairs(20, 4, 4, scale=50.0), temperature=0.1, seed=20, grad=True, upstream_seed=3,
        note="gradient of a normalised vector shrinks like 1 / norm")
    add("grad-cold-temperature", *pairs(21, 6, 8, noise=2.0), temperature=0.01, seed=21, grad=True, upstream_seed=4,
        note="temperature 0.01: logits up to 100 and gradients scaled by 1 / temperature")
    add("grad-cold-temperature-float64", *pairs(22, 5, 6, f64, noise=2.0), temperature=1e-3, seed=22, grad=True,
        upstream_seed=5)
    return out
