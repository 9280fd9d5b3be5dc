"""Cases for KV-cache decoding: the grader feeds a sequence in chunks (prefill, then token by
token, or mixed chunk sizes), passing back the cache each call returned. The outputs of all
calls, concatenated, must equal the full causal forward; the final cache must hold the
projected keys and values of every token in the (B, num_heads, L, head_dim) layout.
"""

from drillcli.fixtures import Case, make_case
from drillcli.graders.attention_inputs import projection_state

RETURNS = ("out", "k_cache", "v_cache")
REFERENCE_DTYPE = "float64"


def cases() -> list[Case]:
    import torch

    out: list[Case] = []

    def add(name, seed, dtype, B, chunks, d_model, heads, mode="stream", alt_len=0, scale=1.0,
            noncontig=(), note=""):
        g = torch.Generator().manual_seed(seed)
        dt = getattr(torch, dtype)
        L = sum(chunks)
        inputs = {"x": torch.randn(B, L, d_model, generator=g, dtype=torch.float64).to(dt)}
        shapes = {w: (d_model, d_model) for w in ("W_q", "W_k", "W_v", "W_o")}
        inputs |= {k: v.to(dt) for k, v in projection_state(g, shapes, qk_scale=scale).items()}
        inputs["_chunks"] = list(chunks)
        inputs["_mode"] = mode
        if alt_len:
            inputs["_alt"] = torch.randn(B, alt_len, d_model, generator=g, dtype=torch.float64).to(dt)
        out.append(make_case(name, inputs, seed=seed, dtype=dtype, init={"d_model": d_model, "num_heads": heads},
                             noncontig=tuple(noncontig), note=note))

    eye = torch.eye(2)
    zero = torch.zeros(2)
    out.append(make_case("readable-3-steps", {
        "x": torch.tensor([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]]),
        **{f"state.{n}.weight": eye for n in ("W_q", "W_k", "W_v", "W_o")},
        **{f"state.{n}.bias": zero for n in ("W_q", "W_k", "W_v", "W_o")},
        "_chunks": [1, 1, 1], "_mode": "stream"}, dtype="float32", init={"d_model": 2, "num_heads": 1},
        note="the example of the prompt: identity weights, one head, three single-token steps"))
    add("prefill-only", 1, "float32", 2, [6], 8, 2,
        note="the whole sequence in one call with cache=None: the plain causal forward")
    add("token-by-token", 2, "float32", 2, [1] * 6, 8, 2, note="cache=None, then one token a call")
    add("prefill-then-steps", 3, "float32", 2, [4, 1, 1, 1], 8, 2, note="a 4-token prompt, then 3 decoding steps")
    add("chunks-after-prefix", 4, "float32", 2, [3, 2, 3], 8, 2,
        note="several new tokens after a cached prefix: new token i sees the cache and new tokens 0..i")
    add("mixed-chunks", 5, "float32", 1, [1, 4, 1, 2], 12, 3)
    add("single-head", 6, "float32", 2, [2, 1, 1], 6, 1)
    add("many-heads", 7, "float32", 2, [3, 1, 1], 16, 8, note="8 heads of size 2")
    add("head-dim-1", 8, "float32", 1, [2, 1, 2], 4, 4)
    add("batch-3", 9, "float32", 3, [3, 1, 1], 8, 2)
    add("single-token-sequence", 10, "float32", 2, [1], 8, 2, note="L = 1: only the first call, cache=None")
    add("float64-token-by-token", 11, "float64", 2, [1] * 5, 8, 2)
    add("float64-chunks", 12, "float64", 2, [2, 3, 1], 12, 4)
    add("large-logits", 13, "float32", 2, [3, 1, 2], 16, 2, scale=8.0,
        note="q and k projections scaled up: logits in the hundreds, the softmax must subtract the row max")
    add("large-logits-float64", 14, "float64", 1, [2, 1, 1, 1], 16, 4, scale=30.0,
        note="logits in the thousands: exp() overflows float64 past 710 without the row max")
    add("noncontiguous", 15, "float32", 2, [3, 1, 1], 8, 2, noncontig=("x",),
        note="x (and so every chunk of it) is a non-contiguous view: reshape, not view, on inputs")
    add("two-streams-interleaved", 16, "float32", 2, [2, 1, 1, 1], 8, 2, mode="interleave",
        note="two sequences decoded alternately with the same module and their own caches: "
             "the module must keep no per-sequence state of its own")
    add("branch-from-prefix", 17, "float32", 1, [3, 1, 1], 8, 2, mode="branch", alt_len=2,
        note="two continuations decoded from the same prefix cache (as beam search does): "
             "the cache passed in must not be modified; outputs are prefix, continuation 1, continuation 2")
    add("branch-float64", 18, "float64", 2, [2, 2], 8, 4, mode="branch", alt_len=3)
    add("long-token-by-token", 19, "float32", 1, [1] * 40, 16, 4, note="40 decoding steps")
    add("long-prefill-then-steps", 20, "float32", 2, [32, 1, 1, 1, 1], 16, 2)
    for i, (B, chunks, dm, h) in enumerate([(3, [2, 2, 1], 10, 5), (1, [5, 3], 18, 3), (2, [1, 1, 3, 1], 12, 6)]):
        add(f"random-shapes-{i}", 30 + i, "float32" if i % 2 == 0 else "float64", B, chunks, dm, h)
    return out


def _step(module, x, cache, where):
    """One call; checks the structure of what comes back."""
    import torch

    from drillcli.harness import WrongReturn

    result = module(x, cache)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise WrongReturn(f"forward must return (out, cache), got {type(result).__name__} ({where})")
    out, new = result
    if not isinstance(out, torch.Tensor):
        raise WrongReturn(f"out must be a tensor, got {type(out).__name__} ({where})")
    if not isinstance(new, (tuple, list)) or len(new) != 2 or not all(isinstance(t, torch.Tensor) for t in new):
        raise WrongReturn(f"the cache must be a tuple (k, v) of two tensors, got {type(new).__name__} ({where})")
    return out, tuple(new)


def _decode(module, x, chunks, cache=None, label=""):
    outs, pos = [], 0
    for n in chunks:
        out, cache = _step(module, x[:, pos:pos + n], cache, f"{label}call with tokens {pos}..{pos + n - 1}")
        outs.append(out)
        pos += n
    return outs, cache


def run(entry, kind, case, names):
    """Drive the module chunk by chunk, feeding back the cache it returns."""
    import torch

    from drillcli.harness import build_inputs, check_inputs_unchanged, instantiate

    args, named, state = build_inputs(case)
    module = instantiate(entry, case, state)
    x = args[0]
    if x.dtype == torch.float64:
        module = module.double()
        module.load_state_dict(state)   # reload: the first load rounded the float64 state to float32
    chunks, mode = list(case.inputs["_chunks"]), case.inputs["_mode"]
    with torch.no_grad():
        if mode == "stream":
            outs, (k, v) = _decode(module, x, chunks)
            out = torch.cat(outs, dim=1)
        elif mode == "interleave":
            # stream a = batch row 0, stream b = the other rows; one chunk of a, then one of b, ...
            xa, xb = x[:1], x[1:]
            ca = cb = None
            outs_a, outs_b, pos = [], [], 0
            for n in chunks:
                oa, ca = _step(module, xa[:, pos:pos + n], ca, f"stream a, tokens {pos}..{pos + n - 1}")
                ob, cb = _step(module, xb[:, pos:pos + n], cb, f"stream b, tokens {pos}..{pos + n - 1}")
                outs_a.append(oa)
                outs_b.append(ob)
                pos += n
            out = torch.cat([torch.cat(outs_a, 1), torch.cat(outs_b, 1)], dim=0)
            k, v = (torch.cat([a, b], dim=0) for a, b in zip(ca, cb))
        else:  # branch: prefix, continuation 1 step by step, continuation 2 from the same prefix cache
            prefix_out, prefix_cache = _step(module, x[:, :chunks[0]], None, "prefix")
            outs1, _ = _decode(module, x[:, chunks[0]:], chunks[1:], prefix_cache, "continuation 1, ")
            alt = named["_alt"]
            outs2, (k, v) = _decode(module, alt, [1] * alt.shape[1], prefix_cache, "continuation 2, ")
            out = torch.cat([prefix_out, *outs1, *outs2], dim=1)
    check_inputs_unchanged(case, named)
    return {"out": out, "k_cache": k, "v_cache": v}
