"""Cases for the T5 relative position bias: bidirectional (encoder) and causal (decoder)
buckets, small and default bucket counts, distances past max_distance, decoding offsets,
and the gradient w.r.t. the bias table.

Graded with `check`: T5 computes the log-spaced buckets with a float32 log and a
truncation, so at the distances where log(n / max_exact) / log(max_distance / max_exact)
* (num_buckets - max_exact) is an exact integer (16, 32 and 64 with the defaults), a
mathematically equal formula may land on either side of the boundary. Those entries
accept the bucket on either side; every other bucket must be exactly T5's, and the bias
and its gradient must be the table lookup of the buckets returned."""

from drillcli.fixtures import Case, make_case

RETURNS = ("bias", "buckets")
BOUNDARY_EPS = 1e-6   # |v - round(v)| below this counts as an exact bucket boundary


def _t5(q_len, k_len, weight, bidirectional, num_buckets, max_distance, query_minus_key=False, first_query=None):
    """T5's bias and buckets (as the reference computes them) with one convention changed: rel taken as
    query - key, or the queries placed at positions first_query .. first_query + q_len - 1."""
    import math

    import torch

    start = k_len - q_len if first_query is None else first_query
    rel = torch.arange(k_len)[None, :] - torch.arange(start, start + q_len)[:, None]   # key - query
    if query_minus_key:
        rel = -rel
    nb, offset = num_buckets, torch.zeros_like(rel)
    if bidirectional:
        nb //= 2
        offset = (rel > 0).long() * nb
        n = rel.abs()
    else:
        n = (-rel).clamp(min=0)
    me = nb // 2
    large = (me + (torch.log(n.float() / me) / math.log(max_distance / me) * (nb - me)).long()).clamp(max=nb - 1)
    buckets = offset + torch.where(n < me, n, large)
    return weight[buckets].permute(2, 0, 1), buckets


def _query_minus_key(q_len, k_len, weight, bidirectional=True, num_buckets=32, max_distance=128):
    return _t5(q_len, k_len, weight, bidirectional, num_buckets, max_distance, query_minus_key=True)


def _queries_from_zero(q_len, k_len, weight, bidirectional=True, num_buckets=32, max_distance=128):
    return _t5(q_len, k_len, weight, bidirectional, num_buckets, max_distance, first_query=0)


NEAR_MISSES = {
    "query-minus-key": ("your output matches rel = query position - key position, which swaps the two halves of a "
                        "bidirectional table and makes a causal one look at the future; T5 (and this problem) takes "
                        "key - query, memory_position - context_position (see the prompt)", _query_minus_key),
    "queries-from-zero": ("your output matches queries at positions 0 .. q_len - 1; here the queries are the last "
                          "q_len positions, query i at i + k_len - q_len, as when decoding with a cache (see the "
                          "prompt)", _queries_from_zero),
}


def cases() -> list[Case]:
    import torch

    out: list[Case] = []

    def add(name, seed, dtype, q_len, k_len, heads, bidirectional=None, num_buckets=None, max_distance=None,
            grad=False, noncontig=(), note=""):
        g = torch.Generator().manual_seed(seed)
        nb = num_buckets or 32
        dt = getattr(torch, dtype)
        inputs = {"q_len": q_len, "k_len": k_len, "weight": torch.randn(nb, heads, generator=g, dtype=torch.float64).to(dt)}
        for key, value in (("bidirectional", bidirectional), ("num_buckets", num_buckets), ("max_distance", max_distance)):
            if value is not None:
                inputs[key] = value
        if grad:
            inputs["_upstream"] = torch.randn(heads, q_len, k_len, generator=g, dtype=torch.float64).to(dt)
        out.append(make_case(name, inputs, seed=seed, dtype=dtype, grad=("weight",) if grad else (),
                             noncontig=tuple(noncontig), note=note))

    readable = torch.arange(8.0)[:, None] / 10   # bias = bucket / 10: the buckets can be read off the bias
    out.append(make_case("readable-bidirectional", {"q_len": 5, "k_len": 5, "weight": readable, "bidirectional": True,
                                                    "num_buckets": 8, "max_distance": 8},
                         dtype="float32", note="the example of the prompt: 8 buckets, 4 per direction, max_exact 2"))
    out.append(make_case("readable-causal", {"q_len": 5, "k_len": 5, "weight": readable, "bidirectional": False,
                                             "num_buckets": 8, "max_distance": 8},
                         dtype="float32", note="causal: future keys (j > i) are all bucket 0, past keys use all 8 buckets"))
    add("t5-defaults-encoder", 1, "float32", 40, 40, 4, note="num_buckets 32, max_distance 128, bidirectional: "
                                                              "distances 16 and 32 sit exactly on bucket boundaries")
    add("t5-defaults-decoder", 2, "float32", 40, 40, 2, bidirectional=False,
        note="T5's decoder self-attention: causal buckets over all 32")
    add("beyond-max-distance-encoder", 3, "float32", 3, 300, 2, note="3 queries at positions 297..299 over 300 keys: "
        "distances past max_distance = 128 all land in the last bucket of their half")
    add("beyond-max-distance-decoder", 4, "float32", 1, 260, 3, bidirectional=False,
        note="one query at position 259: distances up to 259, clamped to bucket 31 from 128 on")
    add("small-max-distance", 5, "float32", 30, 30, 2, True, 16, 20,
        note="16 buckets (8 per direction, max_exact 4), max_distance 20: most distances saturate")
    add("small-max-distance-causal", 6, "float32", 30, 30, 2, False, 16, 20)
    add("many-buckets", 7, "float32", 20, 50, 2, True, 64, 256, note="64 buckets, max_distance 256; 20 queries at the end of 50 keys")
    add("ten-buckets", 8, "float32", 12, 12, 3, True, 10, 16,
        note="num_buckets = 10: 5 per direction, max_exact = 5 // 2 = 2")
    add("two-buckets-causal", 9, "float32", 6, 6, 1, False, 2, 4, note="2 buckets: distance 0 vs everything else")
    add("four-buckets-bidirectional", 22, "float32", 6, 6, 2, True, 4, 4,
        note="the bidirectional minimum: 2 buckets per direction, distance 0 vs the rest; keys after the query + 2")
    add("single-position", 10, "float32", 1, 1, 4, note="q_len = k_len = 1: only distance 0, bucket 0")
    add("decode-one-query", 11, "float32", 1, 50, 4, note="decoding: the query is at position 49, keys 0..49")
    add("decode-chunk-causal", 12, "float32", 4, 70, 2, bidirectional=False,
        note="4 queries at positions 66..69: query i is at i + k_len - q_len")
    add("one-head", 13, "float32", 9, 9, 1)
    add("twelve-heads", 14, "float32", 10, 10, 12, note="T5-base has 12 heads: bias is (12, q_len, k_len)")
    add("float64-encoder", 15, "float64", 33, 33, 2, note="float64 table: the bias keeps its dtype")
    add("float64-decoder-long", 16, "float64", 2, 140, 2, bidirectional=False)
    add("noncontiguous-weight", 17, "float32", 8, 8, 3, noncontig=("weight",), note="the table is a non-contiguous view")
    add("grad-weight", 18, "float32", 12, 12, 2, grad=True,
        note="gradient w.r.t. the table: every (i, j) adds its upstream gradient to row buckets[i, j]")
    add("grad-weight-float64-causal", 19, "float64", 6, 40, 3, bidirectional=False, num_buckets=16, max_distance=32,
        grad=True)
    add("boundary-at-distance-8", 21, "float32", 20, 20, 2, True, 16, 16,
        note="8 buckets per direction, max_exact 4, max_distance 16: at distance 8 the log expression is exactly "
             "2, where float rounding may give bucket 5 or 6 (both accepted)")
    add("rectangular-defaults", 20, "float32", 7, 100, 2, note="7 queries at positions 93..99 over 100 keys, bidirectional")
    return out


def _allowed_buckets(case):
    """(expected buckets, alternative buckets) from the inputs; the alternative differs from
    the expected one only at exact log-bucket boundaries. numpy, float64."""
    import numpy as np

    inp = case.inputs
    q_len, k_len = int(inp["q_len"]), int(inp["k_len"])
    bidirectional = bool(inp.get("bidirectional", True))
    nb, md = int(inp.get("num_buckets", 32)), float(inp.get("max_distance", 128))
    rel = np.arange(k_len)[None, :] - np.arange(k_len - q_len, k_len)[:, None]
    base = np.zeros_like(rel)
    if bidirectional:
        nb //= 2
        base = (rel > 0) * nb
        n = np.abs(rel)
    else:
        n = np.maximum(-rel, 0)
    me = nb // 2
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.log(n / me) / np.log(md / me) * (nb - me)     # -inf at n = 0 (a small distance anyway)
        r = np.round(v)
        boundary = (n >= me) & (r >= 1) & (np.abs(v - r) < BOUNDARY_EPS * np.maximum(1, np.abs(v)))
    lo = np.where(boundary, np.minimum(me + r - 1, nb - 1), -1).astype(np.int64) + np.where(boundary, base, 0)
    hi = np.where(boundary, np.minimum(me + r, nb - 1), -1).astype(np.int64) + np.where(boundary, base, 0)
    return boundary, lo, hi


def check(case, got):
    import numpy as np

    expected, buckets = case.outputs["buckets"], np.asarray(got["buckets"])
    boundary, lo, hi = _allowed_buckets(case)
    ok = (buckets == expected) | (boundary & ((buckets == lo) | (buckets == hi)))
    q_len, k_len = int(case.inputs["q_len"]), int(case.inputs["k_len"])
    if not ok.all():
        i, j = (int(t) for t in np.argwhere(~ok)[0])
        qpos = i + k_len - q_len
        return (f"buckets: {int((~ok).sum())} of {ok.size} buckets differ from T5's\n"
                f"first at [{i}, {j}]: query position {qpos}, key position {j}, relative position "
                f"{j - qpos}: expected bucket {int(expected[i, j])}, got {int(buckets[i, j])}")
    weight = np.asarray(case.inputs["weight"])
    want = np.transpose(weight[buckets], (2, 0, 1))      # (H, Lq, Lk): the lookup of the returned buckets
    tight = (1e-7, 1e-6) if weight.dtype == np.float32 else (1e-14, 1e-12)
    bias = np.asarray(got["bias"], dtype=np.float64)
    bad = ~np.isclose(bias, want, atol=tight[0], rtol=tight[1])
    if bad.any():
        h, i, j = (int(t) for t in np.argwhere(bad)[0])
        return (f"bias: {int(bad.sum())} of {bad.size} values are not weight[buckets[i, j], h]\n"
                f"first at [{h}, {i}, {j}]: bucket {int(buckets[i, j])}, expected weight[{int(buckets[i, j])}, {h}] = "
                f"{want[h, i, j]:.6g}, got {bias[h, i, j]:.6g}")
    if "grad_weight" in got:
        upstream = np.asarray(case.inputs["_upstream"], dtype=np.float64)   # (H, Lq, Lk)
        grad = np.zeros(weight.shape)
        np.add.at(grad, buckets.reshape(-1), upstream.reshape(upstream.shape[0], -1).T)
        loose = (1e-4, 1e-4) if weight.dtype == np.float32 else (1e-10, 1e-8)
        gw = np.asarray(got["grad_weight"], dtype=np.float64)
        bad = ~np.isclose(gw, grad, atol=loose[0], rtol=loose[1])
        if bad.any():
            b, h = (int(t) for t in np.argwhere(bad)[0])
            return (f"grad_weight: {int(bad.sum())} of {bad.size} values wrong\n"
                    f"first at [{b}, {h}]: expected {grad[b, h]:.6g} (sum of the upstream gradient over the "
                    f"positions in bucket {b}), got {gw[b, h]:.6g}")
    return None
