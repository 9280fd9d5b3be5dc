"""Cases for extras/cosine-similarity. No torch import at module level: the parent imports this module."""

from drillcli.fixtures import Case, make_case

RETURNS = ("out",)
REFERENCE_DTYPE = "float64"


def _clamped_product(a, b, eps=1e-8):
    """Older PyTorch's convention: a.b / max(|a| |b|, eps), the product of the norms clamped once."""
    import torch

    na = torch.linalg.vector_norm(a, dim=1)                      # (N,)
    nb = torch.linalg.vector_norm(b, dim=1)                      # (M,)
    return (a @ b.T) / (na[:, None] * nb[None, :]).clamp_min(eps)


def _clamped_squared_norm(a, b, eps=1e-8):
    """optax's convention: each squared norm clamped at eps, so each norm is floored at sqrt(eps)."""
    import torch

    na = (a * a).sum(dim=1, keepdim=True).clamp_min(eps).sqrt()  # (N, 1)
    nb = (b * b).sum(dim=1, keepdim=True).clamp_min(eps).sqrt()  # (M, 1)
    return (a / na) @ (b / nb).T


NEAR_MISSES = {
    "clamped-product": ("your output matches a.b / max(|a| |b|, eps), the product of the norms clamped once (older "
                        "PyTorch); this problem clamps each norm: a.b / (max(|a|, eps) max(|b|, eps)) (see the prompt)",
                        _clamped_product),
    "clamped-squared-norm": ("your output matches each squared norm clamped at eps (a norm floor of sqrt(eps), as in "
                             "optax); this problem floors each norm itself at eps: max(|a|, eps) (see the prompt)",
                             _clamped_squared_norm),
}


def cases() -> list[Case]:
    import torch

    f32, f64 = torch.float32, torch.float64
    out: list[Case] = []

    def rows(g, n, d, dtype, norms=None, scale=1.0):
        """n random row vectors of dimension d; with `norms`, row i rescaled to norm norms[i]
        (0 gives a zero vector)."""
        x = torch.randn(n, d, generator=g, dtype=f64) * scale
        if norms is not None:
            x = x / torch.linalg.vector_norm(x, dim=1, keepdim=True) * torch.as_tensor(norms, dtype=f64)[:, None]
        return x.to(dtype)

    def log_norms(g, n, low, high):
        """n norms spread log-uniformly over [10**low, 10**high]."""
        return 10.0 ** (low + (high - low) * torch.rand(n, generator=g, dtype=f64))

    def add(name, seed, dtype, make, eps="default", note="", noncontig=()):
        g = torch.Generator().manual_seed(seed)
        a, b = make(g, dtype)
        inputs = {"a": a, "b": b} | ({} if eps == "default" else {"eps": eps})
        out.append(make_case(name, inputs, seed=seed, dtype=str(dtype).removeprefix("torch."), note=note,
                             noncontig=tuple(noncontig)))

    def plain(n, m, d, scale=1.0):
        return lambda g, dtype: (rows(g, n, d, dtype, scale=scale), rows(g, m, d, dtype, scale=scale))

    # ---- readable ones: the examples of the prompt ----
    out.append(make_case("readable-2x4", {
        "a": torch.tensor([[1.0, 0.0], [3.0, 4.0]]),
        "b": torch.tensor([[1.0, 0.0], [0.0, 2.0], [-3.0, -4.0], [0.0, 0.0]])},
        dtype="float32", note="the example of the prompt: out[i, j] compares row i of a with row j of b; "
                              "a zero vector gives 0, not NaN"))
    out.append(make_case("readable-below-eps", {
        "a": torch.tensor([[3e-9, 4e-9]]), "b": torch.tensor([[3.0, 4.0]])},
        dtype="float32", note="the prompt's second example: |a| = 5e-9 is floored at eps = 1e-8 on its own, so "
                              "the answer is 0.5 (clamping the product |a| |b| = 2.5e-8 would give 1.0)"))
    out.append(make_case("readable-zero-rows", {
        "a": torch.tensor([[1.0, 2.0, 2.0], [0.0, 0.0, 0.0], [-2.0, 0.0, 0.0]]),
        "b": torch.tensor([[2.0, 1.0, -2.0], [0.0, 0.0, 0.0], [0.0, 3.0, 4.0]])},
        dtype="float32", note="zero rows in a and in b: their similarities are exactly 0 (0 / eps), never NaN"))

    # ---- shapes ----
    add("random", 1, f32, plain(4, 5, 8))
    add("random-float64", 2, f64, plain(6, 7, 16))
    add("n-1", 3, f32, plain(1, 6, 9), note="a has a single row: the output is (1, M)")
    add("m-1", 4, f64, plain(5, 1, 9), note="b has a single row: the output is (N, 1)")
    add("n-1-m-1", 5, f32, plain(1, 1, 3), note="one row each: the output is (1, 1), not a scalar")
    add("d-1", 6, f32, lambda g, dtype: (torch.tensor([[2.0], [-0.5], [0.0], [3.0], [-7.0]], dtype=dtype),
                                         torch.tensor([[1.5], [-4.0], [0.0], [0.25]], dtype=dtype)),
        note="D = 1: each similarity is the product of the signs, and 0 for a zero entry")
    add("self-similarity", 7, f64, lambda g, dtype: (lambda x: (x, x.clone()))(rows(g, 8, 16, dtype)),
        note="b equals a: the diagonal is 1")
    add("long-d", 8, f32, plain(8, 6, 512), note="D = 512, a typical embedding size")
    add("many-rows", 9, f32, plain(64, 48, 32))
    add("empty-n", 10, f32, plain(0, 3, 4), note="a has no rows: the output is empty, of shape (0, M)")
    add("noncontiguous", 11, f32, plain(5, 6, 8), noncontig=("a", "b"), note="a and b are non-contiguous views")

    # ---- zero vectors and eps ----
    add("zero-rows-float32", 12, f32, lambda g, dtype: (rows(g, 6, 8, dtype, norms=[1.0, 0.0, 2.0, 0.5, 0.0, 3.0]),
                                                        rows(g, 5, 8, dtype, norms=[0.7, 1.0, 0.0, 4.0, 1.5])),
        note="zero rows in a and b: their similarities are 0, never NaN")
    add("zero-rows-float64", 13, f64, lambda g, dtype: (rows(g, 4, 6, dtype, norms=[0.0, 1.0, 0.0, 2.0]),
                                                        rows(g, 7, 6, dtype, norms=[1.0, 0.0, 3.0, 0.5, 1.0, 0.0, 2.0])),
        note="zero rows in a and b: their similarities are 0, never NaN")
    add("below-eps-a-float64", 14, f64, lambda g, dtype: (rows(g, 5, 8, dtype, norms=log_norms(g, 5, -10, -8.2)),
                                                          rows(g, 4, 8, dtype)),
        note="every norm of a is below eps = 1e-8 and is floored at eps: out = cos * |a| / 1e-8")
    add("below-eps-b-float32", 29, f32, lambda g, dtype: (rows(g, 3, 8, dtype),
                                                          rows(g, 6, 8, dtype, norms=log_norms(g, 6, -10, -8.2))),
        note="every norm of b is below eps = 1e-8 and is floored at eps: out = cos * |b| / 1e-8")
    add("below-eps-both-float32", 15, f32, lambda g, dtype: (rows(g, 4, 8, dtype, norms=log_norms(g, 4, -10, -8.2)),
                                                             rows(g, 5, 8, dtype, norms=log_norms(g, 5, -10, -8.2))),
        note="every norm below eps = 1e-8: each norm is floored at eps on its own, not their product")
    add("small-above-eps-float32", 16, f32, lambda g, dtype: (rows(g, 5, 8, dtype, norms=log_norms(g, 5, -7, -5)),
                                                              rows(g, 6, 8, dtype, norms=log_norms(g, 6, -7, -5))),
        note="norms between 1e-7 and 1e-5: none is below eps, so nothing is clamped and out = cos, even though "
             "|a| |b| < eps")
    add("small-above-eps-float64", 17, f64, lambda g, dtype: (rows(g, 6, 5, dtype, norms=log_norms(g, 6, -7.5, -4.5)),
                                                              rows(g, 4, 5, dtype, norms=log_norms(g, 4, -7.5, -4.5))),
        note="norms between 3e-8 and 3e-5: none is below eps, so out = cos, even though |a| |b| < eps")
    add("eps-0.5", 18, f32, lambda g, dtype: (rows(g, 6, 4, dtype, norms=log_norms(g, 6, -1.3, 0.5)),
                                              rows(g, 5, 4, dtype, norms=log_norms(g, 5, -1.3, 0.5))), eps=0.5,
        note="eps = 0.5 with norms from 0.05 to 3: each norm below 0.5 is floored at 0.5 (clamped, not added)")
    add("eps-1-float64", 19, f64, lambda g, dtype: (rows(g, 5, 4, dtype, norms=[0.0, 0.2, 0.9, 1.0, 2.5]),
                                                    rows(g, 4, 4, dtype, norms=[0.1, 0.6, 1.7, 0.0])), eps=1.0,
        note="eps = 1.0: norms below 1 are floored at 1, zero rows still give 0")
    add("eps-0-float32", 20, f32, lambda g, dtype: (rows(g, 5, 6, dtype, norms=[3e-12, 1e-9, 0.5, 2e-10, 4.0]),
                                                    rows(g, 4, 6, dtype, norms=[1.0, 7e-11, 2e-12, 3e-8])), eps=0.0,
        note="eps = 0.0 (no zero vectors): nothing is clamped, even norms of 1e-12; 0 is not 'use the default'")
    add("eps-0-float64", 21, f64, lambda g, dtype: (rows(g, 4, 7, dtype, norms=log_norms(g, 4, -12, -9)),
                                                    rows(g, 6, 7, dtype, norms=log_norms(g, 6, -12, 2))), eps=0.0,
        note="eps = 0.0 (no zero vectors): every similarity is the plain cosine, even for norms of 1e-12")
    add("eps-0-int", 22, f64, lambda g, dtype: (rows(g, 3, 5, dtype, norms=[1e-11, 3e-10, 2.0]),
                                                rows(g, 3, 5, dtype, norms=[5e-12, 1.0, 4e-9])), eps=0,
        note="eps = 0 given as the integer 0: nothing is clamped")
    add("eps-explicit-default", 23, f64, lambda g, dtype: (rows(g, 4, 6, dtype, norms=[1e-9, 1.0, 5e-9, 2e-8]),
                                                           rows(g, 3, 6, dtype, norms=[3e-9, 1.0, 0.0])), eps=1e-8,
        note="eps = 1e-8 passed explicitly, with norms on both sides of it")

    # ---- magnitudes ----
    add("large-a-float32", 24, f32, lambda g, dtype: (rows(g, 4, 6, dtype, scale=3e17), rows(g, 5, 6, dtype)),
        note="entries of a near 1e18: the scale of a row does not change its cosine")
    add("large-b-float32", 25, f32, lambda g, dtype: (rows(g, 4, 6, dtype), rows(g, 5, 6, dtype, scale=3e17)),
        note="entries of b near 1e18: the scale of a row does not change its cosine")
    add("large-both-float32", 26, f32, plain(5, 4, 6, scale=3e17),
        note="entries near 1e18 in a and b: each squared norm fits in float32, the product of two does not")
    add("large-both-float64", 27, f64, plain(4, 5, 6, scale=3e149),
        note="entries near 1e150 in a and b: each squared norm fits in float64, the product of two does not")
    add("mixed-magnitudes-float64", 28, f64, lambda g, dtype: (rows(g, 8, 6, dtype, norms=log_norms(g, 8, -12, 12)),
                                                               rows(g, 6, 6, dtype, norms=log_norms(g, 6, -12, 12))),
        note="row norms from 1e-12 to 1e12: rows below eps are floored, the others are not")
    for i, (n, m, d, dtype) in enumerate([(3, 9, 5, f64), (7, 2, 33, f32), (10, 10, 3, f32)]):
        add(f"random-shapes-{i}", 30 + i, dtype, plain(n, m, d))
    return out
