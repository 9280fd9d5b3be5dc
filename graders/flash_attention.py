"""Cases for tiled (flash) attention: values against plain attention, and a memory check on
the long cases: the worker records every tensor created while the entry runs (a
TorchDispatchMode) and the largest one must stay far below a (Lq, Lk) score matrix.
"""


from drillcli.fixtures import Case, make_case

RETURNS = ("out", "peak_elems")
REFERENCE_DTYPE = "float64"
MEMORY_SLACK = 2   # the largest tensor may hold 2x the biggest of q, k, v, out and one score tile


def _qkv(g, lead, lq, lk, d, dv, dtype, scale=1.0, quantize=False):
    import torch

    q, k = (torch.randn(*lead, n, d, generator=g, dtype=torch.float64) * scale for n in (lq, lk))
    v = torch.randn(*lead, lk, dv, generator=g, dtype=torch.float64)
    if quantize:   # multiples of 1/8 in [-4, 4]: exact in float32 and compressible in the fixture
        q, k, v = ((t * 8).round().clamp(-32, 32) / 8 for t in (q, k, v))
    return q.to(dtype), k.to(dtype), v.to(dtype)


def cases() -> list[Case]:
    import torch

    f32, f64 = torch.float32, torch.float64
    out: list[Case] = []

    def add(name, seed, dtype, lead, lq, lk, d, dv, bq, bk, causal=False, scale=1.0, memory=False,
            noncontig=(), qkv=None, note=""):
        g = torch.Generator().manual_seed(seed)
        q, k, v = qkv if qkv is not None else _qkv(g, lead, lq, lk, d, dv, dtype, scale, quantize=memory)
        inputs = {"q": q, "k": k, "v": v, "block_q": bq, "block_k": bk, "causal": causal}
        if memory:
            inputs["_memory_check"] = True
        out.append(make_case(name, inputs, seed=seed, dtype=str(dtype).removeprefix("torch."),
                             noncontig=tuple(noncontig), note=note))

    e = torch.eye(2)
    add("readable-2x2-one-tile", 0, f32, (), 2, 2, 2, 2, 2, 2, note="the example of the prompt, a single tile",
        qkv=(e.clone(), e.clone(), torch.tensor([[1.0, 2.0], [3.0, 4.0]])))
    add("readable-4x4-2x2-tiles", 1, f32, (), 4, 4, 2, 2, 2, 2,
        qkv=(torch.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, 0.0], [0.0, -1.0]]),
             torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 0.0]]),
             torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [10.0, -10.0]])),
        note="4 queries, 4 keys, 2x2 tiles: the second key tile changes the running max of some rows")
    add("blocks-larger-than-sequence", 2, f32, (2,), 5, 7, 4, 4, 64, 64, note="one tile covers everything")
    add("block-size-1", 3, f32, (), 5, 7, 4, 3, 1, 1, note="1x1 tiles: every key updates the running max and sum")
    add("uneven-last-blocks", 4, f32, (2,), 10, 13, 8, 8, 4, 3,
        note="Lq=10 with block_q=4 and Lk=13 with block_k=3: the last tiles are partial")
    add("rectangular-dv", 5, f32, (2,), 6, 9, 4, 6, 4, 4, note="dv != d: the scale uses d = q.shape[-1]")
    add("batch-heads", 6, f32, (2, 3), 12, 12, 8, 8, 4, 8, note="leading (batch, heads) dims")
    add("single-query", 7, f32, (2,), 1, 9, 4, 4, 4, 4, note="Lq = 1")
    add("single-key", 8, f32, (2,), 5, 1, 4, 4, 2, 2, note="Lk = 1: every weight is 1")
    add("causal", 9, f32, (2,), 9, 9, 8, 8, 4, 3, causal=True,
        note="causal with block_q != block_k: the diagonal crosses tiles at different offsets")
    add("causal-small-tiles", 10, f32, (1, 2), 7, 7, 4, 4, 2, 2, causal=True)
    add("causal-block-k-larger", 11, f32, (2,), 10, 10, 4, 4, 3, 8, causal=True,
        note="block_k > block_q: some rows of a tile are entirely masked")
    add("causal-float64", 12, f64, (2,), 11, 11, 8, 8, 4, 4, causal=True)
    add("float64", 13, f64, (2, 2), 9, 14, 8, 8, 4, 5)
    add("large-logits", 14, f32, (2,), 8, 16, 16, 8, 4, 4, scale=4.0,
        note="logits in the tens: exp() must be taken after subtracting the running max")
    add("huge-logits", 15, f32, (2,), 8, 16, 16, 8, 4, 4, scale=10.0,
        note="logits in the hundreds: exp() without the running max overflows float32")
    add("huge-logits-float64", 16, f64, (2,), 8, 16, 16, 8, 4, 4, scale=30.0,
        note="logits in the thousands: exp() without the running max overflows float64")

    def ramp(seed, sign, dtype):
        # keys grow (or shrink) along the sequence: every key tile raises (or never raises) the row max
        g = torch.Generator().manual_seed(seed)
        q = torch.rand(2, 6, 4, generator=g, dtype=torch.float64) + 1.0
        k = sign * torch.linspace(-20, 20, 16, dtype=torch.float64)[None, :, None] * torch.ones(2, 16, 4, dtype=torch.float64)
        v = torch.randn(2, 16, 4, generator=g, dtype=torch.float64)
        return q.to(dtype), k.to(dtype), v.to(dtype)

    add("rising-scores", 17, f32, (2,), 6, 16, 4, 4, 3, 4, qkv=ramp(17, 1.0, f32),
        note="scores rise tile after tile: the old sums must be rescaled by exp(m_old - m_new) each time")
    add("falling-scores", 18, f32, (2,), 6, 16, 4, 4, 3, 4, qkv=ramp(18, -1.0, f32),
        note="the first tile holds the max: later tiles add almost nothing")
    add("very-negative-scores", 19, f64, (2,), 5, 8, 4, 4, 2, 3,
        qkv=(torch.ones(2, 5, 4, dtype=f64) * 30, -torch.ones(2, 8, 4, dtype=f64) * 30 + torch.randn(
            2, 8, 4, generator=torch.Generator().manual_seed(19), dtype=f64),
            torch.randn(2, 8, 4, generator=torch.Generator().manual_seed(119), dtype=f64)),
        note="all scores near -1800: exp() without the max underflows to 0 and gives 0/0")
    add("noncontiguous", 20, f32, (2,), 7, 9, 8, 8, 4, 4, noncontig=("q", "k", "v"),
        note="q, k, v are non-contiguous views")
    add("noncontiguous-causal-float64", 21, f64, (2,), 8, 8, 4, 4, 3, 3, causal=True, noncontig=("q", "k", "v"))
    for i, (lead, lq, lk, d, dv, bq, bk) in enumerate([((3,), 2, 9, 12, 5, 2, 4), ((1, 1, 2), 7, 3, 6, 10, 3, 2),
                                                        ((4,), 13, 6, 2, 2, 5, 5)]):
        add(f"random-shapes-{i}", 30 + i, f32 if i % 2 == 0 else f64, lead, lq, lk, d, dv, bq, bk)
    # long sequences: values and the memory check (see check() below)
    add("memory-256", 40, f32, (1,), 256, 256, 8, 8, 64, 64, memory=True,
        note="memory check: a full (256, 256) score matrix, or a (64, 256) row of tiles, is too big")
    add("memory-rectangular", 41, f32, (), 200, 300, 8, 4, 64, 96, memory=True,
        note="memory check with partial last tiles")
    add("memory-causal", 42, f32, (1,), 256, 256, 8, 8, 64, 64, causal=True, memory=True,
        note="memory check, causal: no (L, L) mask either: build the causal condition per tile")
    add("memory-float64-heads", 43, f64, (2,), 192, 192, 8, 8, 64, 64, memory=True,
        note="memory check over 2 heads in float64")
    return out


def run(entry, kind, case, names):
    """Call the entry under a dispatch mode that records the largest tensor created."""
    import torch

    from drillcli import guard
    from drillcli.largest_tensor import tracker
    from drillcli.harness import build_inputs, check_inputs_unchanged

    args, named, _ = build_inputs(case)
    mode = tracker()
    with torch.no_grad(), mode:
        out = entry(*args)
    if mode.fused:
        message = f"a fused attention kernel ({mode.fused}) is forbidden in this problem"
        guard.VIOLATIONS.append(message)
        raise guard.ForbiddenCall(message)
    check_inputs_unchanged(case, named)
    return {"out": out, "peak_elems": mode.peak}


def memory_limit(case) -> int:
    """Most elements any one tensor may hold in a memory-checked case."""
    import numpy as np

    q, k, v = (np.asarray(case.inputs[n]) for n in ("q", "k", "v"))
    lead = int(np.prod(q.shape[:-2]))
    lq, lk, dv = q.shape[-2], k.shape[-2], v.shape[-1]
    tile = lead * min(case.inputs["block_q"], lq) * min(case.inputs["block_k"], lk)
    return MEMORY_SLACK * max(q.size, k.size, v.size, lead * lq * dv, tile)


def check(case, got):
    """Values as the default comparison does (the spec's tolerance), then the memory bound."""
    import numpy as np

    from drillcli.compare import Mismatch, tolerance, values_close

    expected = case.outputs["out"]
    try:
        values_close("out", expected, got["out"], *tolerance(str(expected.dtype)))
    except Mismatch as m:
        return f"{m.message}\n{m.detail}"
    if case.inputs.get("_memory_check"):
        q, k = np.asarray(case.inputs["q"]), np.asarray(case.inputs["k"])
        lead = int(np.prod(q.shape[:-2]))
        limit, peak = memory_limit(case), int(got["peak_elems"])
        if peak > limit:
            return (f"memory: your code created a tensor of {peak:,} elements; this case allows {limit:,}\n"
                    f"the limit is {MEMORY_SLACK} x the largest of q, k, v, the output and one "
                    f"(block_q, block_k) tile over the leading dims; a full score matrix (or mask) has "
                    f"{lead * q.shape[-2] * k.shape[-2]:,}. Build one (block_q, block_k) tile of scores at a time.")
    return None
