"""Cases for linear attention (elu + 1 feature map), causal and non-causal, with a memory check
on the long cases: no tensor of (Lq, Lk) size may be created (same mechanism as flash-attention)."""


from drillcli.fixtures import Case, make_case

RETURNS = ("out", "peak_elems")
REFERENCE_DTYPE = "float64"
MEMORY_SLACK = 2   # the largest tensor may hold 2x the biggest of q, k, v, out and the (L, d, dv) prefix state


def cases() -> list[Case]:
    import torch

    f32, f64 = torch.float32, torch.float64
    out: list[Case] = []

    def add(name, seed, dtype, lead, lq, lk, d, dv, causal=False, eps=None, qk_shift=0.0, scale=1.0,
            grad=False, memory=False, noncontig=(), qkv=None, note=""):
        g = torch.Generator().manual_seed(seed)
        if qkv is None:   # qk_shift and scale: one number for q and k, or a (q, k) pair
            (q_shift, k_shift), (q_scale, k_scale) = (x if isinstance(x, tuple) else (x, x) for x in (qk_shift, scale))
            q = torch.randn(*lead, lq, d, generator=g, dtype=f64) * q_scale + q_shift
            k = torch.randn(*lead, lk, d, generator=g, dtype=f64) * k_scale + k_shift
            v = torch.randn(*lead, lk, dv, generator=g, dtype=f64)
            if memory:   # multiples of 1/8: exact in float32 and compressible in the fixture
                q, k, v = ((t * 8).round() / 8 for t in (q, k, v))
            qkv = (q, k, v)
        q, k, v = (t.to(dtype) for t in qkv)
        inputs = {"q": q, "k": k, "v": v, "causal": causal}
        if eps is not None:
            inputs["eps"] = eps
        if grad:
            inputs["_upstream"] = torch.randn(*q.shape[:-1], v.shape[-1], generator=g, dtype=f64).to(dtype)
        if memory:
            inputs["_memory_check"] = True
        out.append(make_case(name, inputs, seed=seed, dtype=str(dtype).removeprefix("torch."),
                             grad=("q", "k", "v") if grad else (), noncontig=tuple(noncontig), note=note))

    ex = (torch.tensor([[1.0, 0.0], [0.0, -1.0]]), torch.tensor([[0.0, 1.0], [2.0, -2.0]]),
          torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
    add("readable-2x2", 0, f32, (), 2, 2, 2, 2, qkv=ex, note="the example of the prompt (non-causal)")
    add("readable-2x2-causal", 0, f32, (), 2, 2, 2, 2, causal=True, qkv=ex,
        note="the example of the prompt, causal: the first query sees only the first key")
    add("non-causal-batch", 1, f32, (2,), 6, 6, 4, 4)
    add("non-causal-heads", 2, f32, (2, 3), 5, 5, 8, 8)
    add("non-causal-rectangular", 3, f32, (2,), 4, 9, 6, 3, note="Lq != Lk and dv != d (non-causal only)")
    add("causal-batch", 4, f32, (2,), 7, 7, 4, 4)
    add("causal-heads", 5, f32, (2, 2), 6, 6, 8, 5, causal=True, note="dv != d, causal")
    add("causal-batch-float32", 6, f32, (3,), 8, 8, 4, 4, causal=True)
    add("single-token", 7, f32, (2,), 1, 1, 4, 4, causal=True, note="L = 1: the output is v (up to eps)")
    add("single-query-non-causal", 8, f32, (2,), 1, 6, 4, 4)
    add("float64-non-causal", 9, f64, (2, 2), 7, 9, 8, 8)
    add("float64-causal", 10, f64, (2, 2), 9, 9, 8, 6, causal=True)
    add("eps-1-visible", 11, f64, (2,), 5, 5, 4, 4, causal=True, eps=1.0,
        note="eps = 1.0: eps is added once to the denominator phi(q_i).z_i")
    add("eps-0", 12, f32, (2,), 5, 5, 4, 4, eps=0.0, note="eps = 0.0 passed explicitly")
    add("eps-0-negative-keys", 20, f32, (2,), 5, 5, 4, 4, causal=True, eps=0.0, qk_shift=-5.0, scale=0.5,
        note="eps = 0.0 with small similarities: 0.0 is a value, not 'use the default 1e-6'")
    add("eps-0-negative-keys-float64", 21, f64, (2,), 5, 5, 4, 4, eps=0.0, qk_shift=-12.0, scale=0.5,
        note="eps = 0.0, q and k around -12: the denominator (~1e-9) alone sets the scale")
    add("negative-keys", 13, f64, (2,), 6, 6, 4, 4, causal=True, qk_shift=-12.0, scale=0.5,
        note="q, k around -12: phi(x) = exp(x) ~ 1e-5, the denominator (~1e-9) is far below eps = 1e-6, "
             "so eps sets the scale of the output")
    add("negative-keys-float32", 14, f32, (2,), 5, 5, 4, 4, qk_shift=-5.0, scale=0.5,
        note="phi(x) ~ exp(-5): small similarities, eps changes the output by ~1e-3")
    # each of q and k alone at the stated edges (-12 in float64, -5 in float32, hundreds), the other ordinary
    add("only-q-negative", 22, f64, (2,), 6, 6, 4, 4, causal=True, qk_shift=(-12.0, 0.0), scale=(0.5, 1.0),
        note="only q around -12 (k ordinary): phi(q) ~ 1e-5 in both numerator and denominator, eps still counts")
    add("only-k-negative", 23, f64, (2,), 5, 7, 4, 3, qk_shift=(0.0, -12.0), scale=(1.0, 0.5),
        note="only k around -12 (q ordinary): z and S are ~1e-5, the denominator is ~1e-5 next to eps = 1e-6")
    add("only-q-negative-float32", 24, f32, (2,), 6, 6, 4, 4, qk_shift=(-5.0, 0.0), scale=(0.5, 1.0),
        note="only q around -5 in float32")
    add("only-k-negative-float32", 25, f32, (2,), 6, 6, 4, 4, causal=True, qk_shift=(0.0, -5.0), scale=(1.0, 0.5),
        note="only k around -5 in float32: the causal prefix sums of phi(k) stay small")
    add("only-q-large", 26, f64, (2,), 6, 6, 4, 4, causal=True, scale=(100.0, 1.0),
        note="only q in the hundreds: phi(q) = q + 1 or ~0 per coordinate, k ordinary")
    add("only-k-large", 27, f64, (2,), 6, 6, 4, 4, scale=(1.0, 100.0),
        note="only k in the hundreds: phi(k) = k + 1 or ~0 per coordinate, q ordinary")
    add("large-values", 15, f64, (2,), 6, 6, 4, 4, causal=True, scale=100.0,
        note="q, k in the hundreds: elu(x) + 1 = x + 1 for x > 0 and ~0 for x << 0 (no overflow)")
    add("moderate-values-float32", 19, f32, (2,), 6, 6, 4, 4, causal=True, scale=4.0,
        note="q, k of a few units: phi spans several orders of magnitude")
    add("noncontiguous", 16, f32, (2,), 6, 6, 4, 4, causal=True, noncontig=("q", "k", "v"),
        note="q, k, v are non-contiguous views")
    add("grad-non-causal-float64", 17, f64, (2,), 5, 7, 4, 3, grad=True,
        note="gradients w.r.t. q, k and v (upstream gradient given)")
    add("grad-causal", 18, f32, (2,), 6, 6, 4, 4, causal=True, grad=True)
    for i, (lead, L, d, dv, causal) in enumerate([((3,), 9, 5, 2, True), ((1, 1, 2), 7, 3, 6, False),
                                                   ((4,), 3, 2, 2, True)]):
        add(f"random-shapes-{i}", 30 + i, f32 if i % 2 == 0 else f64, lead, L, L, d, dv, causal=causal)
    add("memory-causal-512", 40, f32, (1,), 512, 512, 4, 4, causal=True, memory=True,
        note="memory check: a (512, 512) similarity matrix or mask is too big")
    add("memory-non-causal-512", 41, f32, (), 512, 384, 4, 4, memory=True,
        note="memory check, non-causal: compute phi(k)^T v (d x dv) first, not phi(q) phi(k)^T")
    add("memory-causal-float64-heads", 42, f64, (2,), 384, 384, 4, 2, causal=True, memory=True,
        note="memory check over 2 heads in float64")
    return out


def run(entry, kind, case, names):
    """Call the entry under a dispatch mode that records the largest tensor created; then gradients."""
    from drillcli.largest_tensor import tracker
    from drillcli.harness import build_inputs, check_inputs_unchanged, gradients

    args, named, _ = build_inputs(case)
    mode = tracker()
    with mode:
        out = entry(*args)
    check_inputs_unchanged(case, named)
    returned = {"out": out}
    return {**returned, "peak_elems": mode.peak, **gradients(case, returned, named)}


def memory_limit(case) -> int:
    """Most elements any one tensor may hold in a memory-checked case."""
    import numpy as np

    q, k, v = (np.asarray(case.inputs[n]) for n in ("q", "k", "v"))
    lead = int(np.prod(q.shape[:-2]))
    state = lead * k.shape[-2] * q.shape[-1] * v.shape[-1]
    return MEMORY_SLACK * max(q.size, k.size, v.size, lead * q.shape[-2] * v.shape[-1], state)


def check(case, got):
    """Values (and gradients) as the default comparison does, then the memory bound."""
    import numpy as np

    from drillcli.compare import Mismatch, tolerance, values_close

    for name, expected in case.outputs.items():
        if name == "peak_elems":
            continue
        try:
            values_close(name, expected, got[name], *tolerance(str(expected.dtype)))
        except Mismatch as m:
            return f"{m.message}\n{m.detail}"
    if case.inputs.get("_memory_check"):
        q, k = np.asarray(case.inputs["q"]), np.asarray(case.inputs["k"])
        lead = int(np.prod(q.shape[:-2]))
        limit, peak = memory_limit(case), int(got["peak_elems"])
        if peak > limit:
            return (f"memory: your code created a tensor of {peak:,} elements; this case allows {limit:,}\n"
                    f"the limit is {MEMORY_SLACK} x the largest of q, k, v, the output and the (L, d, dv) prefix "
                    f"state over the leading dims; an (Lq, Lk) matrix has {lead * q.shape[-2] * k.shape[-2]:,}. "
                    f"Linear attention must never form phi(q) @ phi(k)^T.")
    return None
