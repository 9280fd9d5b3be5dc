"""Cases for multi-head latent attention (DeepSeek-V2) with its compressed cache.

The grader drives `mla` chunk by chunk, like kv-cache: a sequence is split into chunks
(a prompt, then single tokens, ...), each call gets the caches the previous call returned
(or, in the given-cache cases, caches the grader made up for P earlier tokens), and the
outputs of all calls are concatenated. It compares that output and the final caches, whose
shapes fix what MLA keeps per token: the latent c_kv (B, S, d_c) and the shared RoPE key
(B, S, d_rope), never per-head keys or values.
"""

from functools import partial

from drillcli.fixtures import Case, make_case

RETURNS = ("out", "cache_c_kv", "cache_k_rope")
REFERENCE_DTYPE = "float64"
WEIGHTS = ("W_dkv", "W_uk", "W_uv", "W_kr", "W_q", "W_qr", "W_o")


def _variant(x, W_dkv, W_uk, W_uv, W_kr, W_q, W_qr, W_o, num_heads, cache_c_kv=None, cache_k_rope=None,
             base=10000.0, *, scale="full", layout="half"):
    """The reference with one convention changed: the score scale (1/sqrt(d_nope) instead of
    1/sqrt(d_nope + d_rope)) or the RoPE layout (interleaved pairs (2i, 2i + 1))."""
    import math

    import torch

    B, T, _ = x.shape
    P = 0 if cache_c_kv is None else cache_c_kv.shape[1]
    S, H = P + T, num_heads
    pos = torch.arange(P, S)

    def rope(t):
        d = t.shape[-1]
        ang = pos.double()[:, None] * base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
        cos, sin = ang.cos().to(t.dtype), ang.sin().to(t.dtype)
        if layout == "half":
            a, b = t[..., : d // 2], t[..., d // 2:]
            return torch.cat([a * cos - b * sin, a * sin + b * cos], -1)
        a, b = t[..., 0::2], t[..., 1::2]
        return torch.stack([a * cos - b * sin, a * sin + b * cos], -1).flatten(-2)

    c_kv, k_rope = x @ W_dkv, rope(x @ W_kr)
    if cache_c_kv is not None:
        c_kv, k_rope = torch.cat([cache_c_kv, c_kv], 1), torch.cat([cache_k_rope, k_rope], 1)
    q_nope = (x @ W_q).reshape(B, T, H, -1).transpose(1, 2)
    q_rope = rope((x @ W_qr).reshape(B, T, H, -1).transpose(1, 2))
    k_nope = (c_kv @ W_uk).reshape(B, S, H, -1).transpose(1, 2)
    v = (c_kv @ W_uv).reshape(B, S, H, -1).transpose(1, 2)
    width = q_nope.shape[-1] + (q_rope.shape[-1] if scale == "full" else 0)
    s = (q_nope @ k_nope.transpose(-2, -1) + q_rope @ k_rope[:, None].transpose(-2, -1)) / math.sqrt(width)
    s = s.masked_fill(~torch.ones(T, S, dtype=torch.bool).tril(P), float("-inf"))
    out = (torch.softmax(s, -1) @ v).transpose(1, 2).reshape(B, T, -1) @ W_o
    return out, c_kv, k_rope


NEAR_MISSES = {
    "scale-without-rope-dims": ("your output matches scores scaled by 1/sqrt(d_nope); this problem scales by "
                                "1/sqrt(d_nope + d_rope), the width of the concatenated [q_nope, q_rope] "
                                "(see the prompt)", partial(_variant, scale="nope")),
    "interleaved-rope": ("your output matches RoPE in the interleaved-pairs layout (2i, 2i + 1), as in DeepSeek's "
                         "own code; this problem uses the half-split layout (i, i + d/2) of drill `rope` "
                         "(see the prompt)", partial(_variant, layout="interleaved")),
}


def _weights(g, d_model, d_c, H, d_nope, d_rope, d_v, q_scale=1.0):
    """Weights N(0, 1/fan_in), (in_features, out_features); q_scale sharpens the softmax."""
    import torch

    shapes = {"W_dkv": (d_model, d_c), "W_uk": (d_c, H * d_nope), "W_uv": (d_c, H * d_v),
              "W_kr": (d_model, d_rope), "W_q": (d_model, H * d_nope), "W_qr": (d_model, H * d_rope),
              "W_o": (H * d_v, d_model)}
    w = {n: torch.randn(*s, generator=g, dtype=torch.float64) / s[0] ** 0.5 for n, s in shapes.items()}
    w["W_q"], w["W_qr"] = w["W_q"] * q_scale, w["W_qr"] * q_scale
    return w


def cases() -> list[Case]:
    import torch

    out: list[Case] = []

    def add(name, seed, dtype, B, chunks, d_model, d_c, H, d_nope, d_rope, d_v, mode="stream", given=None,
            base=None, q_scale=1.0, alt_len=0, noncontig=(), note=""):
        g = torch.Generator().manual_seed(seed)
        dt = getattr(torch, dtype)
        L = sum(chunks)
        inputs = {"x": torch.randn(B, L, d_model, generator=g, dtype=torch.float64).to(dt)}
        inputs |= {n: t.to(dt) for n, t in _weights(g, d_model, d_c, H, d_nope, d_rope, d_v, q_scale).items()}
        inputs["num_heads"] = H
        if given is not None:   # caches of `given` earlier tokens, made up by the grader
            inputs["cache_c_kv"] = torch.randn(B, given, d_c, generator=g, dtype=torch.float64).to(dt)
            inputs["cache_k_rope"] = torch.randn(B, given, d_rope, generator=g, dtype=torch.float64).to(dt)
        if base is not None:
            inputs["base"] = base
        inputs["_chunks"] = list(chunks)
        inputs["_mode"] = mode
        if alt_len:
            inputs["_alt"] = torch.randn(B, alt_len, d_model, generator=g, dtype=torch.float64).to(dt)
        dims = f"H={H} d_c={d_c} d_nope={d_nope} d_rope={d_rope} d_v={d_v}, chunks {list(chunks)}"
        dims += f" after a given cache of {given} tokens" if given is not None else ""
        out.append(make_case(name, inputs, seed=seed, dtype=dtype, noncontig=tuple(noncontig),
                             note=f"{note} [{dims}]" if note else f"[{dims}]"))

    eye = torch.eye(2)
    for name, chunks in (("readable-2-tokens", [2]), ("readable-token-by-token", [1, 1])):
        out.append(make_case(name, {"x": torch.tensor([[[1.0, 0.0], [0.0, 1.0]]]), **{n: eye for n in WEIGHTS},
                                    "num_heads": 1, "_chunks": chunks, "_mode": "stream"}, dtype="float32",
                             note="the example of the prompt: every weight I (2x2), one head, "
                                  + ("both tokens in one call" if len(chunks) == 1 else "one token a call")))
    add("prefill-only", 1, "float32", 2, [6], 16, 8, 2, 4, 4, 4,
        note="the whole sequence in one call with no cache: plain causal MLA")
    add("token-by-token", 2, "float32", 2, [1] * 6, 16, 8, 2, 4, 4, 4,
        note="one token a call: token t at position t attends to the cached tokens 0..t-1 and itself")
    add("prefill-then-steps", 3, "float32", 2, [4, 1, 1, 1], 16, 8, 2, 4, 4, 4)
    add("chunks-after-prefix", 4, "float32", 2, [3, 2, 3], 16, 8, 2, 4, 4, 4,
        note="several new tokens after a cached prefix: new token i sits at position P + i and sees 0..P + i")
    add("given-cache-steps", 5, "float32", 2, [1, 1, 1], 16, 8, 2, 4, 4, 4, given=5,
        note="the first call already gets a cache of 5 tokens: positions start at 5, and the cache passed in "
             "is the only record of those tokens")
    add("given-cache-chunk-float64", 6, "float64", 2, [3], 12, 6, 3, 2, 4, 2, given=4,
        note="3 new tokens after a given cache of 4: RoPE positions 4, 5, 6 and a mask offset by 4")
    add("given-empty-cache", 7, "float32", 2, [2, 1], 16, 8, 2, 4, 4, 4, given=0,
        note="caches of 0 tokens, (B, 0, d_c) and (B, 0, d_rope), behave like None")
    add("given-long-cache-float64", 8, "float64", 1, [1, 1], 16, 8, 2, 4, 8, 4, given=100,
        note="positions 100 and 101: RoPE angles come from the cache length")
    add("value-dim-differs", 9, "float32", 2, [3, 1, 1], 16, 8, 2, 4, 4, 6,
        note="d_v = 6 != d_nope = 4: the scale uses d_nope + d_rope, W_o takes H * d_v")
    add("rope-dim-2", 10, "float32", 2, [2, 1, 1], 12, 6, 3, 4, 2, 4, note="d_rope = 2: a single rotated pair")
    add("many-heads-small-latent", 11, "float32", 2, [3, 1, 1], 32, 4, 8, 4, 4, 4,
        note="8 heads from a latent of 4: per-head keys and values are 16x larger than the cache")
    add("single-head", 12, "float32", 2, [2, 1, 2], 8, 6, 1, 4, 4, 4)
    add("latent-dim-1", 13, "float32", 2, [2, 1, 1], 8, 1, 2, 3, 2, 3, note="d_c = 1")
    add("base-500000", 14, "float32", 2, [3, 1], 16, 8, 2, 4, 8, 4, given=20, base=500000.0,
        note="base = 500000 (passed as the last argument) for both q_rope and k_rope")
    add("base-100-float64", 15, "float64", 2, [2, 2], 16, 8, 2, 4, 4, 4, base=100.0)
    add("float64-token-by-token", 16, "float64", 2, [1] * 5, 16, 8, 4, 2, 4, 2)
    add("float64-chunks", 17, "float64", 1, [2, 3, 1], 24, 12, 3, 4, 4, 4)
    add("large-logits", 18, "float32", 2, [3, 1, 2], 16, 8, 2, 8, 8, 8, q_scale=50.0,
        note="queries scaled up: logits past 100, exp() overflows float32 without subtracting the row max")
    add("large-logits-float64", 19, "float64", 1, [2, 1, 1, 1], 16, 8, 2, 8, 8, 8, q_scale=400.0,
        note="logits in the thousands: exp() overflows float64 past 710 without the row max")
    add("noncontiguous", 20, "float32", 2, [2, 1, 1], 16, 8, 2, 4, 4, 4, given=3,
        noncontig=("x", "W_uk", "W_uv", "cache_c_kv", "cache_k_rope"),
        note="x, two weights and the given caches are non-contiguous views: reshape, not view")
    add("two-streams-interleaved", 21, "float32", 2, [2, 1, 1, 1], 16, 8, 2, 4, 4, 4, mode="interleave",
        note="two sequences decoded alternately, each with its own caches: keep no state outside the caches")
    add("branch-from-prefix", 22, "float32", 1, [3, 1, 1], 16, 8, 2, 4, 4, 4, mode="branch", alt_len=2,
        note="two continuations decoded from the same prefix caches (as beam search does): the caches passed in "
             "must not be modified; outputs are prefix, continuation 1, continuation 2")
    add("branch-float64", 23, "float64", 2, [2, 2], 12, 6, 3, 2, 4, 2, mode="branch", alt_len=3)
    add("long-token-by-token", 24, "float32", 1, [1] * 32, 16, 8, 2, 4, 4, 4, note="32 decoding steps")
    add("single-token-sequence", 25, "float32", 2, [1], 16, 8, 2, 4, 4, 4,
        note="L = 1 and no cache: the token attends to itself only")
    add("edges-together", 26, "float64", 1, [1], 2, 1, 1, 1, 2, 1, given=0,
        note="every size at its smallest at once: B = 1, T = 1 after an empty cache, H = 1, d_c = 1, d_nope = 1, "
             "d_rope = 2, d_v = 1")
    for i, (B, chunks, dm, dc, H, dn, dr, dv, given) in enumerate([
            (3, [2, 2, 1], 20, 10, 5, 2, 4, 3, None), (1, [5, 3], 18, 6, 3, 6, 2, 4, 2),
            (2, [1, 1, 3, 1], 24, 8, 4, 4, 6, 2, None)]):
        add(f"random-shapes-{i}", 30 + i, "float32" if i % 2 == 0 else "float64", B, chunks, dm, dc, H, dn, dr, dv,
            given=given)
    return out


def _step(entry, args, x, cache, where):
    """One call; checks what comes back, cache shapes included."""
    import torch

    from drillcli.harness import WrongReturn

    weights, num_heads, base = args
    result = entry(x, *weights, num_heads, *cache, *base)
    if not isinstance(result, (tuple, list)) or len(result) != 3:
        got = f"{len(result)} values" if isinstance(result, (tuple, list)) else type(result).__name__
        raise WrongReturn(f"mla must return (out, cache_c_kv, cache_k_rope), got {got} ({where})")
    if not all(isinstance(t, torch.Tensor) for t in result):
        raise WrongReturn(f"out, cache_c_kv and cache_k_rope must be tensors, got "
                          f"{', '.join(type(t).__name__ for t in result)} ({where})")
    out, c_kv, k_rope = result
    B, T = x.shape[:2]
    P = 0 if cache[0] is None else cache[0].shape[1]
    d_c, d_rope = weights[0].shape[1], weights[3].shape[1]
    for name, got, want in (("cache_c_kv", c_kv, (B, P + T, d_c)), ("cache_k_rope", k_rope, (B, P + T, d_rope))):
        if tuple(got.shape) != want:
            raise WrongReturn(f"{name} has shape {tuple(got.shape)} after a call with P = {P} cached and T = {T} new "
                              f"tokens; expected (B, P + T, {'d_c' if name == 'cache_c_kv' else 'd_rope'}) = {want} "
                              f"({where}). MLA caches only the latent and the shared RoPE key per token, "
                              f"never per-head keys or values")
    return out, (c_kv, k_rope)


def _decode(entry, args, x, chunks, cache, label=""):
    outs, pos = [], 0
    for n in chunks:
        out, cache = _step(entry, args, x[:, pos:pos + n], cache, f"{label}call with new tokens {pos}..{pos + n - 1}")
        outs.append(out)
        pos += n
    return outs, cache


def run(entry, kind, case, names):
    """Drive mla chunk by chunk, feeding back the caches it returns."""
    import torch

    from drillcli.harness import build_inputs, check_inputs_unchanged

    _, named, _ = build_inputs(case)
    x = named["x"]
    args = (tuple(named[n] for n in WEIGHTS), named["num_heads"], (named["base"],) if "base" in named else ())
    start = (named.get("cache_c_kv"), named.get("cache_k_rope"))
    chunks, mode = list(case.inputs["_chunks"]), case.inputs["_mode"]
    with torch.no_grad():
        if mode == "stream":
            outs, (c_kv, k_rope) = _decode(entry, args, x, chunks, start)
            out = torch.cat(outs, dim=1)
        elif mode == "interleave":
            # stream a = batch row 0, stream b = the other rows; one chunk of a, then one of b, ...
            ca = cb = (None, None)
            outs_a, outs_b, pos = [], [], 0
            for n in chunks:
                oa, ca = _step(entry, args, x[:1, pos:pos + n], ca, f"stream a, new tokens {pos}..{pos + n - 1}")
                ob, cb = _step(entry, args, x[1:, pos:pos + n], cb, f"stream b, new tokens {pos}..{pos + n - 1}")
                outs_a.append(oa)
                outs_b.append(ob)
                pos += n
            out = torch.cat([torch.cat(outs_a, 1), torch.cat(outs_b, 1)], dim=0)
            c_kv, k_rope = (torch.cat([a, b], dim=0) for a, b in zip(ca, cb))
        else:  # branch: prefix, continuation 1, then continuation 2 from the same prefix caches
            prefix_out, prefix = _step(entry, args, x[:, :chunks[0]], start, "prefix")
            outs1, _ = _decode(entry, args, x[:, chunks[0]:], chunks[1:], prefix, "continuation 1, ")
            alt = named["_alt"]
            outs2, (c_kv, k_rope) = _decode(entry, args, alt, [1] * alt.shape[1], prefix, "continuation 2, ")
            out = torch.cat([prefix_out, *outs1, *outs2], dim=1)
    check_inputs_unchanged(case, named)
    return {"out": out, "cache_c_kv": c_kv, "cache_k_rope": k_rope}
