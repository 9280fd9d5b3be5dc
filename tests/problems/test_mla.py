"""mla: the reference equals a straightforward MLA (per-head K and V materialised, torch's SDPA)
and a weight-absorbed MLA on every case, its caches hold only the latent and the shared RoPE
key, correct variants pass, realistic bugs fail."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from drillcli.fixtures import Case
from drillcli.harness import build_inputs
from tests.support import (assert_near_miss, assert_rejected, assert_within_half_tolerance, describe, mutate,
                           reference, stored_cases)

PROBLEM = "mla"
WEIGHTS = ("W_dkv", "W_uk", "W_uv", "W_kr", "W_q", "W_qr", "W_o")

# Unabsorbed, with explicit [q_nope, q_rope] and [k_nope, k_rope] concatenations; the bugs are
# mutations of it.
CONCAT = """
    import math, torch

    def rope(t, pos, base):
        d = t.shape[-1]
        inv = 1.0 / (base ** (torch.arange(0, d, 2, dtype=torch.float64) / d))
        ang = pos.double()[:, None] * inv
        cos = torch.cat([ang.cos(), ang.cos()], -1).to(t.dtype)
        sin = torch.cat([ang.sin(), ang.sin()], -1).to(t.dtype)
        rot = torch.cat([-t[..., d // 2:], t[..., :d // 2]], -1)
        return t * cos + rot * sin

    def heads(t, H):
        B, L, _ = t.shape
        return t.reshape(B, L, H, -1).transpose(1, 2)

    def mla(x, W_dkv, W_uk, W_uv, W_kr, W_q, W_qr, W_o, num_heads, cache_c_kv=None, cache_k_rope=None,
            base=10000.0):
        B, T, _ = x.shape
        H = num_heads
        P = 0 if cache_c_kv is None else cache_c_kv.shape[1]
        S = P + T
        pos = torch.arange(P, P + T)
        c_new = x @ W_dkv
        kr_new = rope(x @ W_kr, pos, base)
        if cache_c_kv is None:
            c_kv, k_rope = c_new, kr_new
        else:
            c_kv = torch.cat([cache_c_kv, c_new], dim=1)
            k_rope = torch.cat([cache_k_rope, kr_new], dim=1)
        q = torch.cat([heads(x @ W_q, H), rope(heads(x @ W_qr, H), pos, base)], dim=-1)
        k = torch.cat([heads(c_kv @ W_uk, H), k_rope[:, None].expand(B, H, S, k_rope.shape[-1])], dim=-1)
        v = heads(c_kv @ W_uv, H)
        s = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
        mask = torch.ones(T, S, dtype=torch.bool).tril(diagonal=P)
        s = s.masked_fill(~mask, float("-inf"))
        o = torch.softmax(s, dim=-1) @ v
        return o.transpose(1, 2).reshape(B, T, -1) @ W_o, c_kv, k_rope
"""

CORRECT = {
    "unabsorbed-concat": CONCAT,
    "weight-absorbed-einsum": """
        import math, torch

        def rope(t, pos, base):
            d = t.shape[-1]
            ang = torch.outer(pos.double(), base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d))
            c, s = ang.cos().to(t.dtype), ang.sin().to(t.dtype)
            a, b = t[..., : d // 2], t[..., d // 2:]
            return torch.cat([a * c - b * s, a * s + b * c], -1)

        def mla(x, W_dkv, W_uk, W_uv, W_kr, W_q, W_qr, W_o, num_heads, cache_c_kv=None, cache_k_rope=None,
                base=10000.0):
            B, T, _ = x.shape
            H, d_c = num_heads, W_dkv.shape[1]
            d_nope, d_v = W_q.shape[1] // H, W_uv.shape[1] // H
            P = 0 if cache_c_kv is None else cache_c_kv.shape[1]
            pos = torch.arange(P, P + T)
            c = x @ W_dkv
            kr = rope(x @ W_kr, pos, base)
            if cache_c_kv is not None:
                c, kr = torch.cat([cache_c_kv, c], 1), torch.cat([cache_k_rope, kr], 1)
            q_nope = (x @ W_q).reshape(B, T, H, d_nope)
            q_rope = rope((x @ W_qr).reshape(B, T, H, -1).transpose(1, 2), pos, base)       # (B, H, T, r)
            # absorb W_uk into the query: score against the latents, never build k_nope
            q_lat = torch.einsum("bthn,chn->bhtc", q_nope, W_uk.reshape(d_c, H, d_nope))
            s = torch.einsum("bhtc,bsc->bhts", q_lat, c) + torch.einsum("bhtr,bsr->bhts", q_rope, kr)
            s = s / math.sqrt(d_nope + kr.shape[-1])
            S = c.shape[1]
            future = torch.arange(S)[None, :] > (P + torch.arange(T))[:, None]
            w = torch.softmax(s.masked_fill(future, -math.inf), dim=-1)
            o_lat = torch.einsum("bhts,bsc->bthc", w, c)                                    # attend over latents
            o = torch.einsum("bthc,chv->bthv", o_lat, W_uv.reshape(d_c, H, d_v))            # then up-project
            return o.reshape(B, T, H * d_v) @ W_o, c, kr
    """,
    "fully-absorbed-wuv-into-wo": """
        import math, torch

        def mla(x, W_dkv, W_uk, W_uv, W_kr, W_q, W_qr, W_o, num_heads, cache_c_kv=None, cache_k_rope=None,
                base=10000.0):
            B, T, D = x.shape
            H, d_c, r = num_heads, W_dkv.shape[1], W_kr.shape[1]
            d_nope, d_v = W_q.shape[1] // H, W_uv.shape[1] // H
            if cache_c_kv is None:
                cache_c_kv, cache_k_rope = x.new_zeros(B, 0, d_c), x.new_zeros(B, 0, r)
            P = cache_c_kv.shape[1]
            theta = torch.arange(P, P + T, dtype=torch.float64)[:, None] * base ** (
                -torch.arange(r // 2, dtype=torch.float64) * 2 / r)
            cos, sin = theta.cos().to(x.dtype), theta.sin().to(x.dtype)
            def rot(t):
                a, b = t.chunk(2, dim=-1)
                return torch.cat([a * cos - b * sin, b * cos + a * sin], -1)
            c = torch.cat([cache_c_kv, x @ W_dkv], 1)
            kr = torch.cat([cache_k_rope, rot(x @ W_kr)], 1)
            Wuk = W_uk.reshape(d_c, H, d_nope).permute(1, 2, 0)                          # (H, d_nope, d_c)
            Wov = torch.einsum("chv,hvd->hcd", W_uv.reshape(d_c, H, d_v), W_o.reshape(H, d_v, D))  # (H, d_c, D)
            out = x.new_zeros(B, T, D)
            keep = torch.ones(T, P + T, dtype=torch.bool).tril(P)
            for h in range(H):
                qn = x @ W_q[:, h * d_nope:(h + 1) * d_nope]                             # (B, T, d_nope)
                qr = rot(x @ W_qr[:, h * r:(h + 1) * r])                                 # (B, T, r)
                s = ((qn @ Wuk[h]) @ c.transpose(1, 2) + qr @ kr.transpose(1, 2)) / math.sqrt(d_nope + r)
                s = torch.where(keep, s, torch.finfo(s.dtype).min)
                w = torch.exp(s - s.amax(-1, keepdim=True))
                w = w / w.sum(-1, keepdim=True)
                out = out + (w @ c) @ Wov[h]
            return out, c, kr
    """,
    "loops-float64-intermediates": """
        import math, torch

        def mla(x, W_dkv, W_uk, W_uv, W_kr, W_q, W_qr, W_o, num_heads, cache_c_kv=None, cache_k_rope=None,
                base=10000.0):
            dt = x.dtype
            X = x.double()
            Wd, Wuk, Wuv, Wkr, Wq, Wqr, Wo = (w.double() for w in (W_dkv, W_uk, W_uv, W_kr, W_q, W_qr, W_o))
            B, T, _ = x.shape
            H, r = num_heads, W_kr.shape[1]
            dn, dv = W_q.shape[1] // H, W_uv.shape[1] // H
            P = 0 if cache_c_kv is None else cache_c_kv.shape[1]
            def rope_vec(t, p):
                out = t.clone()
                for i in range(r // 2):
                    a = p * math.pow(base, -2 * i / r)
                    out[..., i] = t[..., i] * math.cos(a) - t[..., i + r // 2] * math.sin(a)
                    out[..., i + r // 2] = t[..., i] * math.sin(a) + t[..., i + r // 2] * math.cos(a)
                return out
            c_new = X @ Wd
            kr_new = torch.stack([rope_vec((X @ Wkr)[:, t], P + t) for t in range(T)], 1)
            c = c_new if cache_c_kv is None else torch.cat([cache_c_kv.double(), c_new], 1)
            kr = kr_new if cache_c_kv is None else torch.cat([cache_k_rope.double(), kr_new], 1)
            out = torch.zeros(B, T, Wo.shape[1], dtype=torch.float64)
            for b in range(B):
                for h in range(H):
                    k_nope = c[b] @ Wuk[:, h * dn:(h + 1) * dn]
                    v = c[b] @ Wuv[:, h * dv:(h + 1) * dv]
                    for t in range(T):
                        qn = X[b, t] @ Wq[:, h * dn:(h + 1) * dn]
                        qr = rope_vec(X[b, t] @ Wqr[:, h * r:(h + 1) * r], P + t)
                        n = P + t + 1
                        s = (k_nope[:n] @ qn + kr[b, :n] @ qr) / math.sqrt(dn + r)
                        w = torch.softmax(s, 0)
                        out[b, t] += (w @ v[:n]) @ Wo[h * dv:(h + 1) * dv]
            return out.to(dt), c.to(dt), kr.to(dt)
    """,
    "token-by-token-complex-rope-float32-angles": """
        import math, torch

        def one(x, W_dkv, W_uk, W_uv, W_kr, W_q, W_qr, W_o, H, c, kr, base):
            # a single new token x (B, 1, D) at position P = c.shape[1]
            B, P, r = x.shape[0], c.shape[1], W_kr.shape[1]
            ct = torch.float64 if x.dtype == torch.float64 else torch.float32
            ang = P * base ** (-torch.arange(0, r, 2).to(ct) / r)
            z = torch.polar(torch.ones_like(ang), ang)
            def rope(t):
                y = torch.complex(t[..., : r // 2].to(ct), t[..., r // 2:].to(ct)) * z
                return torch.cat([y.real, y.imag], -1).to(t.dtype)
            c = torch.cat([c, x @ W_dkv], 1)
            kr = torch.cat([kr, rope(x @ W_kr)], 1)
            q = torch.cat([(x @ W_q).view(B, H, -1), rope((x @ W_qr).view(B, H, r))], -1)      # (B, H, dn + r)
            k = torch.cat([(c @ W_uk).view(B, -1, H, W_uk.shape[1] // H),
                           kr[:, :, None, :].expand(-1, -1, H, -1)], -1)                  # (B, S, H, dn + r)
            v = (c @ W_uv).view(B, -1, H, W_uv.shape[1] // H)
            w = torch.softmax(torch.einsum("bhe,bshe->bhs", q, k) / math.sqrt(q.shape[-1]), -1)
            return torch.einsum("bhs,bshv->bhv", w, v).reshape(B, 1, -1) @ W_o, c, kr

        def mla(x, W_dkv, W_uk, W_uv, W_kr, W_q, W_qr, W_o, num_heads, cache_c_kv=None, cache_k_rope=None,
                base=10000.0):
            B = x.shape[0]
            c = cache_c_kv if cache_c_kv is not None else x.new_empty(B, 0, W_dkv.shape[1])
            kr = cache_k_rope if cache_k_rope is not None else x.new_empty(B, 0, W_kr.shape[1])
            outs = []
            for t in range(x.shape[1]):
                o, c, kr = one(x[:, t:t + 1], W_dkv, W_uk, W_uv, W_kr, W_q, W_qr, W_o, num_heads, c, kr, base)
                outs.append(o)
            return torch.cat(outs, 1), c, kr
    """,
}


def _bug(*pairs: tuple[str, str]) -> str:
    return mutate(CONCAT, *pairs)


BUGS = {
    "rope-positions-restart-at-0": _bug(("pos = torch.arange(P, P + T)", "pos = torch.arange(T)")),
    "mask-not-offset-by-cache": _bug(("tril(diagonal=P)", "tril()")),
    "no-causal-mask": _bug(('s = s.masked_fill(~mask, float("-inf"))', "pass")),
    "scale-by-d-nope-only": _bug(("math.sqrt(q.shape[-1])", "math.sqrt(W_q.shape[1] // H)")),
    "cache-stores-unrotated-k-rope": _bug(
        ("kr_new = rope(x @ W_kr, pos, base)", "kr_new = x @ W_kr"),
        ("k_rope[:, None].expand(B, H, S, k_rope.shape[-1])",
         "rope(k_rope, torch.arange(S), base)[:, None].expand(B, H, S, k_rope.shape[-1])")),
    "head-split-feature-major": _bug(("return t.reshape(B, L, H, -1).transpose(1, 2)",
                                      "return t.reshape(B, L, -1, H).permute(0, 3, 1, 2)")),
    "rope-missing-on-queries": _bug(("rope(heads(x @ W_qr, H), pos, base)", "heads(x @ W_qr, H)")),
    "cache-concatenated-new-first": _bug(("torch.cat([cache_c_kv, c_new], dim=1)", "torch.cat([c_new, cache_c_kv], dim=1)"),
                                         ("torch.cat([cache_k_rope, kr_new], dim=1)",
                                          "torch.cat([kr_new, cache_k_rope], dim=1)")),
    "hard-coded-base": _bug(("inv = 1.0 / (base **", "inv = 1.0 / (10000.0 **")),
    "softmax-without-max-shift": _bug(("o = torch.softmax(s, dim=-1) @ v",
                                       "e = s.exp()\n        o = (e / e.sum(-1, keepdim=True)) @ v")),
    "heads-merged-without-transpose": _bug(("o.transpose(1, 2).reshape(B, T, -1) @ W_o", "o.reshape(B, T, -1) @ W_o")),
}

PER_HEAD_KV_CACHE = """
    import math, torch

    def mla(x, W_dkv, W_uk, W_uv, W_kr, W_q, W_qr, W_o, num_heads, cache_c_kv=None, cache_k_rope=None,
            base=10000.0):
        # caches the materialised per-head keys and values, as ordinary multi-head attention would
        B, T, _ = x.shape
        H, r = num_heads, W_kr.shape[1]
        P = 0 if cache_c_kv is None else cache_c_kv.shape[2]
        ang = torch.arange(P, P + T, dtype=torch.float64)[:, None] * base ** (-torch.arange(0, r, 2, dtype=torch.float64) / r)
        cos, sin = ang.cos().to(x.dtype), ang.sin().to(x.dtype)
        def rope(t):
            a, b = t[..., : r // 2], t[..., r // 2:]
            return torch.cat([a * cos - b * sin, a * sin + b * cos], -1)
        split = lambda t: t.reshape(B, T, H, -1).transpose(1, 2)
        c = x @ W_dkv
        k = torch.cat([split(c @ W_uk), rope(x @ W_kr)[:, None].expand(B, H, T, r)], -1)
        v = split(c @ W_uv)
        if cache_c_kv is not None:
            k, v = torch.cat([cache_c_kv, k], 2), torch.cat([cache_k_rope, v], 2)
        q = torch.cat([split(x @ W_q), rope(split(x @ W_qr))], -1)
        s = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
        s = s.masked_fill(~torch.ones(T, P + T, dtype=torch.bool).tril(P), float("-inf"))
        o = torch.softmax(s, -1) @ v
        return o.transpose(1, 2).reshape(B, T, -1) @ W_o, k, v
"""

# keeps the per-head keys and values of "the" sequence in a module-level list: right for one
# sequence decoded from scratch, wrong as soon as the caches passed in are the only record
STATEFUL = _bug(("    def mla(", "    _KV = {}\n\n    def mla("),
                ("        k = torch.cat([heads(c_kv @ W_uk, H), k_rope[:, None].expand(B, H, S, k_rope.shape[-1])], dim=-1)\n"
                 "        v = heads(c_kv @ W_uv, H)\n",
                 "        k_new = torch.cat([heads(c_new @ W_uk, H), kr_new[:, None].expand(B, H, T, k_rope.shape[-1])], dim=-1)\n"
                 "        v_new = heads(c_new @ W_uv, H)\n"
                 "        if cache_c_kv is None or not _KV:\n"
                 "            _KV['k'], _KV['v'] = k_new, v_new\n"
                 "        else:\n"
                 "            _KV['k'], _KV['v'] = torch.cat([_KV['k'], k_new], 2), torch.cat([_KV['v'], v_new], 2)\n"
                 "        k, v = _KV['k'], _KV['v']\n"
                 "        S = k.shape[2]\n"
                 "        P = S - T\n"))


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass_within_half_tolerance(grade_source, name):
    verdict = grade_source(PROBLEM, CORRECT[name])
    assert_within_half_tolerance(verdict)


@pytest.mark.parametrize("name", BUGS)
def test_bugs_fail(grade_source, name):
    verdict = grade_source(PROBLEM, BUGS[name])
    assert verdict.status == "failed", describe(verdict)
    assert_rejected(verdict)


def test_per_head_kv_cache_is_reported_as_a_wrong_cache(grade_source):
    verdict = grade_source(PROBLEM, PER_HEAD_KV_CACHE)
    assert verdict.status == "wrong_return", describe(verdict)
    assert_rejected(verdict)
    assert "never per-head keys or values" in describe(verdict)


def test_state_outside_the_caches_fails_the_cache_cases(grade_source):
    verdict = grade_source(PROBLEM, STATEFUL)
    assert not verdict.ok, describe(verdict)
    failed = {c.name for c in verdict.cases if not c.passed}
    assert {"given-cache-steps", "two-streams-interleaved", "branch-from-prefix", "branch-float64"} <= failed, failed
    assert "prefill-then-steps" not in failed and "token-by-token" not in failed, failed


# files written in another convention: each verdict names it
NEAR_MISSES = {
    "scale-without-rope-dims": BUGS["scale-by-d-nope-only"],
    "interleaved-rope": _bug(("rot = torch.cat([-t[..., d // 2:], t[..., :d // 2]], -1)",
                              "rot = torch.stack([-t[..., 1::2], t[..., 0::2]], -1).flatten(-2)"),
                             ("cos = torch.cat([ang.cos(), ang.cos()], -1).to(t.dtype)",
                              "cos = ang.cos().repeat_interleave(2, -1).to(t.dtype)"),
                             ("sin = torch.cat([ang.sin(), ang.sin()], -1).to(t.dtype)",
                              "sin = ang.sin().repeat_interleave(2, -1).to(t.dtype)")),
}


@pytest.mark.parametrize("variant", NEAR_MISSES)
def test_near_misses_are_named(grade_source, variant):
    assert_near_miss(grade_source(PROBLEM, NEAR_MISSES[variant]), PROBLEM, variant)


# --- the reference against independent formulations -------------------------------------------

def _rope(t, pos, base):
    d = t.shape[-1]
    ang = pos.double()[:, None] * base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
    a, b = t[..., : d // 2], t[..., d // 2:]
    return torch.cat([a * ang.cos() - b * ang.sin(), a * ang.sin() + b * ang.cos()], -1)


def _heads(t, H):
    B, L, _ = t.shape
    return t.reshape(B, L, H, -1).transpose(1, 2)


def _unabsorbed(x, w, H, c_prev, kr_prev, base):
    """Straightforward MLA: materialise per-head K = [k_nope, k_rope] and V, then torch's SDPA."""
    B, T, _ = x.shape
    P = c_prev.shape[1]
    S = P + T
    pos = torch.arange(P, S)
    c = torch.cat([c_prev, x @ w["W_dkv"]], 1)
    kr = torch.cat([kr_prev, _rope(x @ w["W_kr"], pos, base)], 1)
    q = torch.cat([_heads(x @ w["W_q"], H), _rope(_heads(x @ w["W_qr"], H), pos, base)], -1)
    k = torch.cat([_heads(c @ w["W_uk"], H), kr[:, None].expand(B, H, S, kr.shape[-1])], -1)
    v = _heads(c @ w["W_uv"], H)
    mask = torch.ones(T, S, dtype=torch.bool).tril(P)
    o = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)   # scale 1/sqrt(d_nope + d_rope)
    return o.transpose(1, 2).reshape(B, T, -1) @ w["W_o"], c, kr


def _absorbed(x, w, H, c_prev, kr_prev, base):
    """Weight-absorbed MLA: W_uk folded into the queries, W_uv into W_o; no per-head K or V."""
    B, T, D = x.shape
    P, d_c = c_prev.shape[1], c_prev.shape[2]
    pos = torch.arange(P, P + T)
    d_nope, d_v, r = w["W_q"].shape[1] // H, w["W_uv"].shape[1] // H, w["W_kr"].shape[1]
    c = torch.cat([c_prev, x @ w["W_dkv"]], 1)
    kr = torch.cat([kr_prev, _rope(x @ w["W_kr"], pos, base)], 1)
    q_lat = torch.einsum("bhtn,chn->bhtc", _heads(x @ w["W_q"], H), w["W_uk"].reshape(d_c, H, d_nope))
    q_rope = _rope(_heads(x @ w["W_qr"], H), pos, base)
    s = (q_lat @ c[:, None].transpose(-2, -1) + q_rope @ kr[:, None].transpose(-2, -1)) / math.sqrt(d_nope + r)
    s = s.masked_fill(~torch.ones(T, P + T, dtype=torch.bool).tril(P), -math.inf)
    o_lat = torch.softmax(s, -1) @ c[:, None]                                               # (B, H, T, d_c)
    W_ov = torch.einsum("chv,hvd->hcd", w["W_uv"].reshape(d_c, H, d_v), w["W_o"].reshape(H, d_v, D))
    return torch.einsum("bhtc,hcd->btd", o_lat, W_ov), c, kr


def _expected(case: Case, impl):
    """(out, c_kv, k_rope) of the whole case in one call per sequence, in float64."""
    _, named, _ = build_inputs(case)
    x = named["x"].double()
    w = {n: named[n].double() for n in WEIGHTS}
    H, base = named["num_heads"], named.get("base", 10000.0)
    d_c, r = w["W_dkv"].shape[1], w["W_kr"].shape[1]
    c0 = named["cache_c_kv"].double() if "cache_c_kv" in named else x.new_zeros(x.shape[0], 0, d_c)
    k0 = named["cache_k_rope"].double() if "cache_k_rope" in named else x.new_zeros(x.shape[0], 0, r)
    if case.inputs["_mode"] != "branch":   # interleaved streams are independent batch rows
        return impl(x, w, H, c0, k0, base)
    P = case.inputs["_chunks"][0]
    out1, _, _ = impl(x, w, H, c0, k0, base)
    out2, c, kr = impl(torch.cat([x[:, :P], named["_alt"].double()], 1), w, H, c0, k0, base)
    return torch.cat([out1, out2[:, P:]], 1), c, kr


def test_reference_matches_unabsorbed_and_absorbed_mla_on_every_case():
    for case in stored_cases(PROBLEM):
        plain, absorbed = _expected(case, _unabsorbed), _expected(case, _absorbed)
        for a, b in zip(plain, absorbed):
            torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-11, msg=case.name)
        tol = {"rtol": 1e-9, "atol": 1e-10} if case.dtype == "float64" else {"rtol": 1e-5, "atol": 1e-6}
        for name, want in zip(("out", "cache_c_kv", "cache_k_rope"), plain):
            got = torch.from_numpy(case.outputs[name]).double()
            torch.testing.assert_close(got, want, **tol, msg=f"{case.name}: {name}")


def test_reference_direct_call_matches_the_straightforward_version():
    g = torch.Generator().manual_seed(0)
    B, T, D, d_c, H, dn, r, dv = 2, 5, 16, 6, 4, 4, 4, 3
    shapes = {"W_dkv": (D, d_c), "W_uk": (d_c, H * dn), "W_uv": (d_c, H * dv), "W_kr": (D, r),
              "W_q": (D, H * dn), "W_qr": (D, H * r), "W_o": (H * dv, D)}
    w = {n: torch.randn(*s, generator=g, dtype=torch.float64) / s[0] ** 0.5 for n, s in shapes.items()}
    x = torch.randn(B, T, D, generator=g, dtype=torch.float64)
    c0, k0 = torch.randn(B, 3, d_c, generator=g, dtype=torch.float64), torch.randn(B, 3, r, generator=g, dtype=torch.float64)
    ours = reference(PROBLEM)(x, *(w[n] for n in WEIGHTS), H, c0, k0, 500.0)
    for a, b in zip(ours, _unabsorbed(x, w, H, c0, k0, 500.0)):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def test_caches_hold_only_the_latent_and_the_shared_rope_key():
    for case in stored_cases(PROBLEM):
        _, named, _ = build_inputs(case)
        x, H = named["x"], named["num_heads"]
        B = x.shape[0]
        P = named["cache_c_kv"].shape[1] if "cache_c_kv" in named else 0
        L = x.shape[1] if case.inputs["_mode"] != "branch" else case.inputs["_chunks"][0] + named["_alt"].shape[1]
        d_c, r = named["W_dkv"].shape[1], named["W_kr"].shape[1]
        d_nope, d_v = named["W_q"].shape[1] // H, named["W_uv"].shape[1] // H
        assert case.outputs["cache_c_kv"].shape == (B, P + L, d_c), case.name
        assert case.outputs["cache_k_rope"].shape == (B, P + L, r), case.name
        # per token: d_c + d_rope numbers, less than the per-head keys [k_nope, k_rope] and values
        per_token = (case.outputs["cache_c_kv"].size + case.outputs["cache_k_rope"].size) / (B * (P + L))
        assert per_token == d_c + r < H * (d_nope + r + d_v), case.name
