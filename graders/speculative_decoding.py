"""Cases for the verify step of speculative sampling.

The prompt fixes every draw: u = torch.rand(k, generator=generator, dtype=draft_probs.dtype) first,
then one torch.multinomial(weights, 1, generator=generator) on one length-V row. So a correct
solution is deterministic given the generator: the grader compares the emitted tokens exactly and,
after every call, the generator's state (a fingerprint of it, and how it moved: `draws`).

A case is one call, or R calls in a row (`_runs` = R: row r of each input is call r) that share
one generator. The "bigram" cases come from a pair of small deterministic models (a draft and a
target bigram table with entries in sixteenths, exact in floating point), with the draft tokens
sampled from the draft model; the tests enumerate every outcome of those models exactly and check
that the first emitted token follows the target's distribution.

`_u` (grader-only) holds the uniforms each call draws when the generator moves as stated; the
failure messages show them. A call that draws as stated moves the generator like
torch.rand(k, dtype) followed by V float64 uniforms (what one torch.multinomial over V weights
consumes, whatever their dtype), so every call's u is known in advance.
"""

import numpy as np

from drillcli.fixtures import Case, make_case
from drillcli.graders.temperature_sampling import only_the_given_generator

RETURNS = ("tokens",)

# how the generator moved during one call
DRAWS_OK, NO_DRAW, UNIFORMS_ONLY, FEWER_UNIFORMS, WRONG_DTYPE, TWO_MULTINOMIALS, OTHER_DRAWS = 1, 0, 2, 3, 4, 5, -1
RULE = ("draw u = torch.rand(k, generator=generator, dtype=draft_probs.dtype) once, first, then exactly one "
        "torch.multinomial(weights, 1, generator=generator) on a single length-V row")
DRAW_MESSAGES = {
    NO_DRAW: "the generator was not used at all: " + RULE,
    UNIFORMS_ONLY: "the generator moved like torch.rand(k) alone: the last token (from the residual after a "
                   "rejection, or the bonus token) must be drawn with torch.multinomial(weights, 1, generator=generator)",
    FEWER_UNIFORMS: "your code drew fewer than k uniforms (did it draw one per position and stop at the first "
                    "rejection?): draw all k at once with torch.rand(k, generator=generator, dtype=draft_probs.dtype) "
                    "before the loop, even if the ones after a rejection go unused",
    WRONG_DTYPE: "the uniforms were drawn in the wrong dtype: use torch.rand(k, generator=generator, "
                 "dtype=draft_probs.dtype) (float64 probabilities draw float64 uniforms, which move the generator "
                 "differently)",
    TWO_MULTINOMIALS: "the generator moved like two torch.multinomial draws: draw exactly one token after the accepted "
                      "drafts (from the residual after a rejection, or the bonus token when every draft is accepted)",
    OTHER_DRAWS: "the generator moved differently from the stated draws: " + RULE,
}


def _fingerprint(state):
    import hashlib

    return int.from_bytes(hashlib.blake2b(state.numpy().tobytes(), digest_size=4).digest(), "little")


def _draws(before, after, k, v, dtype):
    """How the generator moved from `before` to `after` (states), as one of the codes above."""
    import torch

    if torch.equal(before, after):
        return NO_DRAW
    other = torch.float32 if dtype == torch.float64 else torch.float64

    def moved(*steps):
        g = torch.Generator()
        g.set_state(before)
        for n, dt in steps:
            torch.rand(n, generator=g, dtype=dt)
        return torch.equal(g.get_state(), after)

    multinomial = (v, torch.float64)   # one torch.multinomial over v weights moves it like v float64 uniforms
    if moved((k, dtype), multinomial):
        return DRAWS_OK
    if moved((k, dtype)):
        return UNIFORMS_ONLY
    if any(moved((j, dtype), multinomial) for j in range(k)):
        return FEWER_UNIFORMS
    if moved((k, other), multinomial) or moved((k, other)):
        return WRONG_DTYPE
    if moved((k, dtype), multinomial, multinomial):
        return TWO_MULTINOMIALS
    return OTHER_DRAWS


def _emitted(out, k, v, where):
    import torch

    from drillcli.harness import WrongReturn

    what = f"{where}speculative_verify must return a 1-D int64 torch.Tensor of token ids"
    if not isinstance(out, torch.Tensor):
        raise WrongReturn(f"{what}, got {type(out).__name__}")
    if out.dtype != torch.int64:
        raise WrongReturn(f"{what}, got dtype {out.dtype} (e.g. torch.tensor(tokens, dtype=torch.long))")
    if out.dim() != 1:
        raise WrongReturn(f"{what}, got shape {tuple(out.shape)}")
    n = out.shape[0]
    if not 1 <= n <= k + 1:
        raise WrongReturn(f"{where}returned {n} tokens for k = {k} draft tokens: the verify step emits the accepted "
                          f"drafts plus exactly one sampled token, so between 1 and k + 1 = {k + 1}")
    if int(out.min()) < 0 or int(out.max()) >= v:
        raise WrongReturn(f"{where}returned token ids outside [0, {v}): {out.tolist()}")
    return out.detach().tolist()


def run(entry, kind, case, names):
    import torch

    from drillcli.harness import build_inputs, check_inputs_unchanged

    args, named, _ = build_inputs(case)
    draft, target, tokens = args
    runs = case.inputs.get("_runs")
    calls = [(draft, target, tokens)] if runs is None else [(draft[r], target[r], tokens[r]) for r in range(runs)]
    k, v = calls[0][0].shape
    generator = torch.Generator().manual_seed(case.seed)
    emitted = np.full((len(calls), k + 1), -1, dtype=np.int64)
    draws = np.zeros(len(calls), dtype=np.int64)
    state = np.zeros(len(calls), dtype=np.int64)
    states = [generator.get_state()]
    with only_the_given_generator():
        for r, (q, p, x) in enumerate(calls):
            got = _emitted(entry(q, p, x, generator), k, v, f"call {r + 1} of {len(calls)}: " if runs is not None else "")
            emitted[r, :len(got)] = got
            states.append(generator.get_state())
    for r in range(len(calls)):
        draws[r], state[r] = _draws(states[r], states[r + 1], k, v, draft.dtype), _fingerprint(states[r + 1])
    check_inputs_unchanged(case, named)
    return {"tokens": emitted, "draws": draws, "state": state}


def _call_inputs(case, r):
    """(q (k, V), p (k+1, V), draft tokens (k,), u (k,)) of call r, as numpy float64 / int."""
    q, p, x = (np.asarray(case.inputs[n]) for n in ("draft_probs", "target_probs", "draft_tokens"))
    if "_runs" in case.inputs:
        q, p, x = q[r], p[r], x[r]
    return q.astype(np.float64), p.astype(np.float64), x.astype(np.int64), np.asarray(case.inputs["_u"])[r]


def _fmt(values, digits=4):
    return "[" + ", ".join(f"{v:.{digits}g}" for v in values) + "]"


def _story(q, p, x, u):
    """What the rule does on one call, in words: the ratios, how many drafts it accepts, what it samples."""
    k = len(x)
    px, qx = p[np.arange(k), x], q[np.arange(k), x]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = px / qx
    shown = ", ".join("inf (q = 0)" if np.isinf(r) else "p = q = 0" if np.isnan(r) else f"{r:.4g}" for r in ratio)
    lines = [f"draft_tokens {x.tolist()}, u = {_fmt(u)}, p/q at the draft tokens = [{shown}]"]
    accepted = u < ratio   # nan compares False: p = q = 0 rejects
    m = int(np.argmin(accepted)) if not accepted.all() else k
    if m == k:
        lines.append(f"rule: u[i] < p/q at every position, so all {k} drafts are accepted, then one bonus token "
                     f"is drawn from target_probs[{k}] = {_fmt(p[k])}")
        return lines
    residual = np.maximum(p[m] - q[m], 0.0)
    why = f"p = q = 0 for draft token {x[m]} rejects it" if np.isnan(ratio[m]) else \
        f"u = {u[m]:.4g} is not < p/q = {ratio[m]:.4g}, so draft token {x[m]} is rejected"
    lines.append(f"rule: {m} draft(s) accepted; at position {m} {why}, and one token is drawn from the residual "
                 f"max(0, p_{m} - q_{m})")
    support = np.flatnonzero(residual)
    if support.size == 0:
        lines.append(f"the residual is all zero here (p_{m} <= q_{m} everywhere), so the token is drawn from p_{m} "
                     f"= target_probs[{m}] instead")
    else:
        lines.append("residual (unnormalised), nonzero entries: "
                     + ", ".join(f"token {int(t)}: {residual[t]:.4g}" for t in support[:8])
                     + (" ..." if support.size > 8 else ""))
    return lines


def check(case, got):
    want, have = case.outputs["tokens"], got["tokens"]
    runs = want.shape[0]
    for r in range(runs):
        wrong_tokens = not np.array_equal(want[r], have[r])
        wrong_draws = int(got["draws"][r]) != int(case.outputs["draws"][r])
        wrong_state = int(got["state"][r]) != int(case.outputs["state"][r])
        if not (wrong_tokens or wrong_draws or wrong_state):
            continue
        where = f"call {r + 1} of {runs}: " if "_runs" in case.inputs else ""
        if wrong_tokens:
            mine, rule = [int(t) for t in have[r] if t >= 0], [int(t) for t in want[r] if t >= 0]
            first = f"{where}you emitted {mine}, expected {rule}"
        else:
            first = f"{where}right tokens, but the generator moved differently from the stated draws"
        q, p, x, u = _call_inputs(case, r)
        lines = [first, *_story(q, p, x, u)]
        if wrong_draws or wrong_state:
            code = int(got["draws"][r]) if wrong_draws else OTHER_DRAWS
            lines.append("generator: " + DRAW_MESSAGES.get(code, DRAW_MESSAGES[OTHER_DRAWS]))
        if r > 0:
            lines.append(f"(calls 1 to {r} were right; all {runs} calls share one generator, so a wrong draw shifts "
                         f"every later call)")
        return "\n".join(lines)
    return None


# ---- known other conventions -----------------------------------------------------------------

def _variant(draft_probs, target_probs, draft_tokens, generator, *, resample="residual", uniforms="all-first"):
    """The rule with one convention changed: resample from the target p after a rejection
    (resample="target"), or one torch.rand(1) per position, stopping at the first rejection
    (uniforms="one-by-one")."""
    import torch

    k = draft_tokens.shape[0]
    u = torch.rand(k, generator=generator, dtype=draft_probs.dtype) if uniforms == "all-first" else None
    out = []
    for i in range(k):
        ui = u[i] if u is not None else torch.rand(1, generator=generator, dtype=draft_probs.dtype)[0]
        x = int(draft_tokens[i])
        if ui < target_probs[i, x] / draft_probs[i, x]:
            out.append(x)
            continue
        residual = (target_probs[i] - draft_probs[i]).clamp(min=0) if resample == "residual" else target_probs[i]
        if residual.sum() == 0:
            residual = target_probs[i]
        out.append(int(torch.multinomial(residual, 1, generator=generator)))
        return torch.tensor(out, dtype=torch.long)
    out.append(int(torch.multinomial(target_probs[k], 1, generator=generator)))
    return torch.tensor(out, dtype=torch.long)


def _resample_from_target(draft_probs, target_probs, draft_tokens, generator):
    return _variant(draft_probs, target_probs, draft_tokens, generator, resample="target")


def _uniforms_one_by_one(draft_probs, target_probs, draft_tokens, generator):
    return _variant(draft_probs, target_probs, draft_tokens, generator, uniforms="one-by-one")


NEAR_MISSES = {
    "resample-from-target": ("your output matches resampling from the target distribution p_i after a rejection; "
                             "the rule samples from the residual max(0, p_i - q_i), renormalised, which is what "
                             "makes the output follow p exactly (see the prompt)", _resample_from_target),
    "uniforms-one-by-one": ("your output matches drawing one torch.rand(1) per draft position and stopping at the "
                            "first rejection; this problem draws all k uniforms first with one torch.rand(k, ...) "
                            "call (see the prompt)", _uniforms_one_by_one),
}


# ---- cases ----------------------------------------------------------------------------------

def replay_uniforms(seed, calls, k, v, dtype):
    """The u of each of `calls` calls sharing a generator seeded `seed`, when each call draws as stated."""
    import torch

    g = torch.Generator().manual_seed(seed)
    us = []
    for _ in range(calls):
        us.append(torch.rand(k, generator=g, dtype=dtype))
        torch.rand(v, generator=g, dtype=torch.float64)
    return torch.stack(us)


def _dtype_name(t):
    return str(t.dtype).removeprefix("torch.")


def _single(name, q, p, x, seed, note, noncontig=()):
    import torch

    k, v = q.shape
    u = replay_uniforms(seed, 1, k, v, q.dtype)
    return make_case(name, {"draft_probs": q, "target_probs": p, "draft_tokens": torch.as_tensor(x, dtype=torch.long),
                            "_u": u}, seed=seed, dtype=_dtype_name(q), note=note, noncontig=tuple(noncontig))


def _many(name, q, p, x, seed, note, extra=None):
    runs, k, v = q.shape
    u = replay_uniforms(seed, runs, k, v, q.dtype)
    inputs = {"draft_probs": q, "target_probs": p, "draft_tokens": x, "_runs": runs, "_u": u, **(extra or {})}
    return make_case(name, inputs, seed=seed, dtype=_dtype_name(q), note=note)


def _random_pair(g, k, v, spread, sharpness=1.0):
    """q (k, V) and p (k+1, V) in float64: softmax of correlated Gaussian logits; draft tokens sampled from q."""
    import torch

    lq = torch.randn(k + 1, v, generator=g, dtype=torch.float64) * sharpness
    lp = lq + torch.randn(k + 1, v, generator=g, dtype=torch.float64) * spread
    q, p = torch.softmax(lq[:k], -1), torch.softmax(lp, -1)
    x = torch.multinomial(q, 1, generator=g)[:, 0]
    return q, p, x


# bigram models: row a = the distribution of the next token after token a; entries in sixteenths
BIGRAMS = {
    "v3": {"context": 0,
           "draft": [[8, 4, 4], [4, 8, 4], [2, 2, 12]],
           "target": [[4, 8, 4], [8, 4, 4], [2, 2, 12]]},
    "v4-zeros": {"context": 1,
                 "draft": [[4, 4, 4, 4], [8, 0, 4, 4], [2, 6, 8, 0], [4, 4, 0, 8]],
                 "target": [[0, 8, 4, 4], [4, 4, 8, 0], [2, 6, 8, 0], [8, 4, 4, 0]]},
}


def bigram_tables(name, seed=None, v=None):
    """(draft table Q, target table P, context token) as float64 tensors (V, V) with entries in sixteenths;
    a random pair when `name` is not one of BIGRAMS."""
    import torch

    if name in BIGRAMS:
        b = BIGRAMS[name]
        return (torch.tensor(b["draft"], dtype=torch.float64) / 16, torch.tensor(b["target"], dtype=torch.float64) / 16,
                b["context"])
    g = torch.Generator().manual_seed(seed)

    def table():
        balls = torch.multinomial(torch.ones(v), 16 * v, replacement=True, generator=g).reshape(v, 16)
        return torch.stack([torch.bincount(row, minlength=v) for row in balls]).to(torch.float64) / 16

    return table(), table(), 0


def bigram_calls(draft_table, target_table, context, k, runs, seed):
    """`runs` draft sequences of length k sampled from the draft bigram model after `context`, with the rows
    both models give at every position: q (R, k, V), p (R, k+1, V), x (R, k), float64."""
    import torch

    g = torch.Generator().manual_seed(seed)
    v = draft_table.shape[0]
    x = torch.zeros(runs, k, dtype=torch.long)
    prev = torch.full((runs,), context, dtype=torch.long)
    q = torch.zeros(runs, k, v, dtype=torch.float64)
    p = torch.zeros(runs, k + 1, v, dtype=torch.float64)
    for i in range(k):
        q[:, i], p[:, i] = draft_table[prev], target_table[prev]
        x[:, i] = torch.multinomial(q[:, i], 1, generator=g)[:, 0]
        prev = x[:, i]
    p[:, k] = target_table[prev]
    return q, p, x


def cases() -> list[Case]:
    import torch

    f32, f64 = torch.float32, torch.float64
    out: list[Case] = []

    def t(rows, dtype=f32):
        return torch.tensor(rows, dtype=f64).to(dtype)

    # readable: sixteenths, exact in float32
    q_ex = t([[0.5, 0.25, 0.25], [0.25, 0.5, 0.25]])
    p_ex = t([[0.25, 0.5, 0.25], [0.5, 0.25, 0.25], [0.125, 0.125, 0.75]])
    out.append(_single("readable-reject-second", q_ex, p_ex, [1, 1], 0,
                       "the first example of the prompt: u = [0.4963, 0.7682]; p/q = 2 accepts token 1, then p/q = 0.5 "
                       "<= 0.7682 rejects; the residual max(0, p_1 - q_1) = [0.25, 0, 0] emits token 0"))
    out.append(_single("readable-accept-all-bonus", q_ex, p_ex, [1, 0], 0,
                       "the second example of the prompt: both drafts accepted (p/q = 2), then the bonus token is "
                       "drawn from target_probs[k] = target_probs[2]"))
    out.append(_single("readable-reject-first", t([[0.25, 0.5, 0.125, 0.125], [0.25] * 4, [0.5, 0.25, 0.125, 0.125]]),
                       t([[0.375, 0.25, 0.25, 0.125], [0.25] * 4, [0.5, 0.25, 0.125, 0.125], [0.25] * 4]), [1, 2, 0], 1,
                       "u[0] = 0.7576 >= p/q = 0.5 rejects the first draft: one token from the residual [0.125, 0, "
                       "0.125, 0] and nothing else, although the later drafts (p/q = 1) would pass their own test"))
    out.append(_single("k1-accept", t([[0.5, 0.25, 0.25]]), t([[0.25, 0.25, 0.5], [0.5, 0.25, 0.25]]), [0], 3,
                       "k = 1: u = 0.0043 < p/q = 0.5 accepts; the bonus token comes from target_probs[1]"))
    out.append(_single("k1-reject", t([[0.5, 0.25, 0.25]]), t([[0.25, 0.25, 0.5], [0.5, 0.25, 0.25]]), [0], 5,
                       "k = 1: u = 0.8303 >= p/q = 0.5 rejects; the residual [0, 0, 0.25] emits token 2 for sure"))
    out.append(_single("draft-prob-zero-target-positive", t([[0.5, 0.5, 0.0], [0.25, 0.25, 0.5]]),
                       t([[0.25, 0.25, 0.5], [0.25, 0.25, 0.5], [0.5, 0.25, 0.25]]), [2, 1], 5,
                       "q(x) = 0 < p(x): the ratio p/q is +inf, the draft is accepted whatever u (here u = 0.8303)"))
    out.append(_single("draft-and-target-prob-zero", t([[0.5, 0.5, 0.0], [0.25, 0.25, 0.5]]),
                       t([[0.75, 0.25, 0.0], [0.25, 0.25, 0.5], [0.5, 0.25, 0.25]]), [2, 1], 3,
                       "q(x) = p(x) = 0: rejected even with u = 0.0043 (0/0 is NaN and u < NaN is False; "
                       "Python's min(1.0, nan) is 1.0 and would accept)"))
    out.append(_single("zero-residual-falls-back-to-target", t([[0.5, 0.0, 0.5], [0.25, 0.5, 0.25]]),
                       t([[0.5, 0.0, 0.5], [0.25, 0.5, 0.25], [0.25, 0.25, 0.5]]), [1, 0], 3,
                       "p_0 == q_0 and q(x) = p(x) = 0: rejected, and max(0, p - q) is all zero, so the token is drawn "
                       "from p_0 itself (torch.multinomial refuses an all-zero row)"))
    out.append(_single("target-prob-zero-always-rejects", t([[0.25, 0.25, 0.5], [0.25, 0.25, 0.5]]),
                       t([[0.5, 0.5, 0.0], [0.25, 0.25, 0.5], [0.25, 0.25, 0.5]]), [2, 0], 3,
                       "p(x) = 0: p/q = 0 and even u = 0.0043 rejects; the residual [0.25, 0.25, 0] draws token 0 or 1"))
    out.append(_single("residual-on-one-token",
                       t([[0.25, 0.25, 0.125, 0.125, 0.125, 0.125], [1 / 6] * 6]),
                       t([[0.125, 0.125, 0.125, 0.125, 0.375, 0.125], [1 / 6] * 6, [1 / 6] * 6]), [0, 3], 8,
                       "p <= q everywhere except token 4: after the rejection (u = 0.5979 >= p/q = 0.5) the residual "
                       "is [0, 0, 0, 0, 0.25, 0], so token 4 is emitted whatever the draw"))

    e = torch.eye(4, dtype=f64)
    out.append(_single("one-hot-rows", torch.stack([e[2], e[1]]).to(f32), torch.stack([e[2], e[1], e[0]]).to(f32),
                       [2, 1], 4, "probabilities exactly 1: p = q = one-hot at each draft (ratio 1, accepted), "
                                  "and a one-hot p[k] makes the bonus token 0 certain: emits [2, 1, 0]"))
    out.append(_single("greedy-draft-rejected", torch.stack([e[1], e[3]]), torch.tensor([[0.25, 0.25, 0.5, 0.0],
                                                                                          [0.0, 0.0, 0.0, 1.0],
                                                                                          [0.25] * 4], dtype=f64),
                       [1, 3], 0, "a greedy draft (q one-hot, q(x) = 1): p/q = 0.25 < u = 0.9701 rejects; the "
                                  "residual max(0, p - q) = [0.25, 0, 0.5, 0] draws token 0 or 2"))
    g = torch.Generator().manual_seed(100)
    q = torch.softmax(torch.randn(3, 8, generator=g, dtype=f64), -1)
    q0 = q[:1] * torch.tensor([1, 1, 1, 0, 1, 1, 1, 1]) / (1 - q[0, 3])         # token 3 has probability 0
    out.append(_single("zero-residual-float64", torch.cat([q0, q[1:]]),
                       torch.cat([q0, q[1:], torch.softmax(torch.randn(1, 8, generator=g, dtype=f64), -1)]),
                       [3, 1, 2], 10, "float64, p_0 == q_0 with q(x) = p(x) = 0: rejected, the residual is all zero, "
                                      "the token is drawn from p_0"))
    same = torch.softmax(torch.randn(5, 8, generator=g, dtype=f64) * 1.5, -1)
    out.append(_single("target-equals-draft", same[:4].to(f32), same.to(f32), torch.multinomial(same[:4], 1, generator=g)[:, 0],
                       12, "p == q: every ratio is exactly 1 > u, all 4 drafts are accepted, then the bonus token"))
    same = torch.softmax(torch.randn(7, 5, generator=g, dtype=f64), -1)
    out.append(_single("target-equals-draft-float64", same[:6], same, torch.multinomial(same[:6], 1, generator=g)[:, 0], 13,
                       "p == q in float64: all 6 drafts accepted"))

    def rand(name, seed, k, v, spread, dtype, sharpness=1.0, note="", noncontig=()):
        gen = torch.Generator().manual_seed(1000 + seed)
        q, p, x = _random_pair(gen, k, v, spread, sharpness)
        out.append(_single(name, q.to(dtype), p.to(dtype), x, seed, note, noncontig))

    rand("random-float32", 20, 4, 10, 1.0, f32)
    rand("random-float64", 21, 5, 16, 1.0, f64, note="float64 probabilities: u is drawn in float64")
    rand("vocab-1000", 22, 6, 1000, 0.5, f32, sharpness=2.0, note="a realistic vocabulary")
    rand("vocab-1000-float64", 23, 3, 1000, 1.0, f64, sharpness=2.0)
    rand("long-draft", 24, 16, 12, 0.1, f32, note="k = 16 drafts from a draft model close to the target: long accepted runs")
    rand("noncontiguous", 25, 4, 9, 0.7, f64, noncontig=("draft_probs", "target_probs", "draft_tokens"),
         note="the inputs are non-contiguous views")

    def many(name, seed, runs, k, v, spread, dtype, note):
        gen = torch.Generator().manual_seed(1000 + seed)
        qs, ps, xs = zip(*(_random_pair(gen, k, v, spread) for _ in range(runs)))
        out.append(_many(name, torch.stack(qs).to(dtype), torch.stack(ps).to(dtype), torch.stack(xs), seed, note))

    many("many-calls-float32", 30, 60, 3, 20, 1.0, f32,
         "60 calls in a row sharing one generator (row r of each input is call r): every path, many times")
    many("many-calls-float64", 31, 60, 4, 6, 1.5, f64, "60 float64 calls in a row sharing one generator")

    def bigram(name, seed, table, k, runs, dtype, note, v=None):
        draft_table, target_table, context = bigram_tables(table, seed, v)
        q, p, x = bigram_calls(draft_table, target_table, context, k, runs, 1000 + seed)
        extra = {"_draft_table": draft_table, "_target_table": target_table, "_context": context}
        out.append(_many(name, q.to(dtype), p.to(dtype), x, seed, note, extra))

    bigram("bigram-v3-k2", 40, "v3", 2, 150, f64,
           "150 verify steps of a draft and a target bigram model over 3 tokens, drafts sampled from the draft model "
           "(row r of each input is call r; one generator for all calls)")
    bigram("bigram-v4-zeros-k3", 41, "v4-zeros", 3, 150, f32,
           "bigram models over 4 tokens with zeros: some drafts always rejected (p = 0), some target tokens the "
           "draft never proposes (q = 0); 150 calls, one generator")
    bigram("bigram-v5-k1", 42, "random", 1, 150, f64,
           "random bigram models over 5 tokens, k = 1; 150 calls, one generator", v=5)
    bigram("bigram-v6-k4", 43, "random", 4, 120, f32,
           "random bigram models over 6 tokens, k = 4; 120 calls, one generator", v=6)
    return out
