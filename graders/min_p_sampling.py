"""Cases for min-p sampling with a repetition penalty and a temperature.

The prompt fixes the draw (one torch.multinomial(probs, 1, generator=generator) on the (B, V)
probabilities), so the grader compares `probs` within the tolerance, the sampled tokens exactly,
and the generator's state after the call (a fingerprint of it, and how it moved: `draws`).

Every case keeps min_p at least MARGIN (relative) away from every token's ratio
p_i / p_max = exp(z_i - z_max) (computed in float64), except tokens tied exactly with the row's
maximum, so that correct implementations computing in another order or precision always keep the
same set.
"""

import numpy as np

from drillcli.fixtures import Case, make_case
from drillcli.graders.temperature_sampling import only_the_given_generator

RETURNS = ("probs", "tokens")
REFERENCE_DTYPE = "float64"
MARGIN = 1e-3

DRAWS_OK, NO_DRAW, OTHER_DRAWS = 1, 0, -1
DRAW_MESSAGES = {
    NO_DRAW: "the generator was not used: draw the tokens with torch.multinomial(probs, 1, generator=generator)",
    OTHER_DRAWS: "the generator moved differently from one torch.multinomial(probs, 1, generator=generator) on the "
                 "(B, V) probabilities (one draw per row; a loop over the rows draws the same numbers)",
}


def _fingerprint(state):
    import hashlib

    return int.from_bytes(hashlib.blake2b(state.numpy().tobytes(), digest_size=4).digest(), "little")


def _draws(before, after, n):
    """NO_DRAW, DRAWS_OK if the generator moved like one torch.multinomial over n = B * V weights (which
    consumes what n float64 uniforms do, whatever the weights' dtype), else OTHER_DRAWS."""
    import torch

    if torch.equal(before, after):
        return NO_DRAW
    g = torch.Generator()
    g.set_state(before)
    torch.rand(n, generator=g, dtype=torch.float64)
    return DRAWS_OK if torch.equal(g.get_state(), after) else OTHER_DRAWS


def run(entry, kind, case, names):
    import torch

    from drillcli.harness import WrongReturn, build_inputs, check_inputs_unchanged, unpack

    args, named, _ = build_inputs(case)
    logits = args[0]
    b, v = logits.shape
    generator = torch.Generator().manual_seed(case.seed)
    before = generator.get_state()
    with only_the_given_generator():
        returned = unpack(entry(*args, generator), names)
    check_inputs_unchanged(case, named)
    after = generator.get_state()
    tokens = returned["tokens"]
    if not isinstance(tokens, torch.Tensor) or tokens.dtype != torch.int64:
        got = f"{type(tokens).__name__} {getattr(tokens, 'dtype', '')}"
        raise WrongReturn(f"tokens must be an int64 torch.Tensor of shape (B,), got {got}")
    if tuple(tokens.shape) != (b,):
        hint = " (take [:, 0] of torch.multinomial's (B, 1) result)" if tuple(tokens.shape) == (b, 1) else ""
        raise WrongReturn(f"tokens must have shape (B,) = ({b},), got {tuple(tokens.shape)}{hint}")
    probs = returned["probs"]
    return {"probs": probs.detach() if isinstance(probs, torch.Tensor) else probs, "tokens": tokens.detach(),
            "draws": _draws(before, after, b * v), "state": _fingerprint(after)}


def check(case, got):
    from drillcli.compare import Mismatch, tolerance, values_close

    expected = case.outputs["probs"]
    atol, rtol = tolerance(str(expected.dtype))
    try:
        values_close("probs", expected, got["probs"], atol, rtol)
    except Mismatch as m:
        return f"{m.message}\n{m.detail}"
    lines = []
    want, have = case.outputs["tokens"], got["tokens"]
    if not np.array_equal(want, have):
        rows = np.flatnonzero(want != have)
        r = int(rows[0])
        lines.append(f"tokens: {rows.size} of {want.size} rows drew another token; first, row {r}: expected "
                     f"{int(want[r])}, got {int(have[r])}")
        if got["probs"][r, int(have[r])] == 0:
            lines.append(f"token {int(have[r])} has probability 0 in row {r} after the filter: sample from the "
                         f"filtered, renormalised probs")
    if int(got["draws"]) != int(case.outputs["draws"]) or int(got["state"]) != int(case.outputs["state"]):
        if not lines:
            lines.append("right tokens, but the generator moved differently from the stated draw")
        code = int(got["draws"]) if int(got["draws"]) != int(case.outputs["draws"]) else OTHER_DRAWS
        lines.append("generator: " + DRAW_MESSAGES.get(code, DRAW_MESSAGES[OTHER_DRAWS]))
    elif lines:
        lines.append("draw once with torch.multinomial(probs, 1, generator=generator) on the filtered probs (B, V)")
    return "\n".join(lines) or None


# ---- known other conventions -----------------------------------------------------------------

def _variant(logits, prev_tokens, penalty, temperature, min_p, generator, *, order="temperature-first",
             sign="hf", threshold="relative", per="token"):
    """The reference with one convention changed: min-p computed before the temperature (llama.cpp's
    default order), every repeated logit divided by the penalty (the CTRL paper's formula), an absolute
    threshold probs >= min_p (epsilon sampling), or the penalty applied once per occurrence."""
    import torch

    if per == "token":
        count = torch.zeros_like(logits).scatter_(1, prev_tokens, 1.0)
    else:
        count = torch.zeros_like(logits).scatter_add_(1, prev_tokens, torch.ones_like(prev_tokens, dtype=logits.dtype))
    factor = penalty ** count                                                   # penalty per (token, occurrence)
    if sign == "hf":
        z = torch.where(logits < 0, logits * factor, logits / factor)
    else:
        z = logits / factor
    probs = torch.softmax(z / temperature, dim=-1)
    base = torch.softmax(z, dim=-1) if order == "temperature-last" else probs
    top = base.amax(dim=-1, keepdim=True)
    keep = (base >= min_p) | (base == top) if threshold == "absolute" else base >= min_p * top   # epsilon keeps the top
    probs = torch.where(keep, probs, torch.zeros_like(probs))
    probs = probs / probs.sum(dim=-1, keepdim=True)
    return probs, torch.multinomial(probs, 1, generator=generator)[:, 0]


def _temperature_last(*args):
    return _variant(*args, order="temperature-last")


def _ctrl_divides_all(*args):
    return _variant(*args, sign="ctrl")


def _absolute_threshold(*args):
    return _variant(*args, threshold="absolute")


def _penalty_per_occurrence(*args):
    return _variant(*args, per="occurrence")


NEAR_MISSES = {
    "temperature-last": ("your output matches applying the min-p filter before the temperature (llama.cpp's default "
                         "sampler order, temperature last); this problem filters the tempered distribution "
                         "softmax(z / temperature) (see the prompt)", _temperature_last),
    "ctrl-divides-all": ("your output matches dividing every repeated token's logit by the penalty, negative ones "
                         "too (the CTRL paper's formula, which raises a negative logit); this problem multiplies "
                         "negative logits by the penalty, as Hugging Face does (see the prompt)", _ctrl_divides_all),
    "absolute-threshold": ("your output matches an absolute threshold probs >= min_p (epsilon sampling); min-p "
                           "scales the threshold by the row's top probability: probs >= min_p * max(probs) "
                           "(see the prompt)", _absolute_threshold),
    "penalty-per-occurrence": ("your output matches applying the penalty once per occurrence of a token; this "
                               "problem penalises each distinct previous token once, however often it appears "
                               "(see the prompt)", _penalty_per_occurrence),
}


# ---- cases ----------------------------------------------------------------------------------

def tempered(logits, prev_tokens, penalty, temperature):
    """z = penalised logits / temperature, in float64 (numpy in, numpy out)."""
    z = np.asarray(logits, dtype=np.float64).copy()
    for b, row in enumerate(np.asarray(prev_tokens)):
        for t in set(int(i) for i in row):
            z[b, t] = z[b, t] * penalty if z[b, t] < 0 else z[b, t] / penalty
    return z / temperature


def ratios(logits, prev_tokens, penalty, temperature):
    """p_i / p_max = exp(z_i - z_max) per row, float64; exactly 1 for the tokens tied with the maximum."""
    z = tempered(logits, prev_tokens, penalty, temperature)
    with np.errstate(invalid="ignore"):
        return np.exp(z - z.max(axis=1, keepdims=True))


def near_threshold(logits, prev_tokens, penalty, temperature, min_p):
    """True if some token's ratio is within MARGIN (relative) of min_p, ties with the maximum excepted."""
    if min_p == 0:
        return False
    r = ratios(logits, prev_tokens, penalty, temperature)
    close = (np.abs(r - min_p) < MARGIN * min_p) & (r != 1.0)
    return bool(close.any())


def _safe_min_p(logits, prev_tokens, penalty, temperature, min_p):
    while near_threshold(logits, prev_tokens, penalty, temperature, min_p):
        min_p = round(min_p + 3 * MARGIN * min_p, 6)
    return min_p


def cases() -> list[Case]:
    import torch

    f32, f64 = torch.float32, torch.float64
    inf = float("inf")
    out: list[Case] = []

    def add(name, logits, prev, penalty, temperature, min_p, seed, note="", noncontig=(), exact=False):
        prev = torch.as_tensor(prev, dtype=torch.long).reshape(logits.shape[0], -1)
        if not exact:
            min_p = _safe_min_p(logits.numpy(), prev.numpy(), penalty, temperature, min_p)
        assert not near_threshold(logits.numpy(), prev.numpy(), penalty, temperature, min_p), name
        out.append(make_case(name, {"logits": logits, "prev_tokens": prev, "penalty": penalty,
                                    "temperature": temperature, "min_p": min_p},
                             seed=seed, dtype=str(logits.dtype).removeprefix("torch."), note=note,
                             noncontig=tuple(noncontig)))

    def rand(name, seed, b, v, penalty, temperature, min_p, dtype=f32, length=6, scale=1.0, offset=0.0, banned=0.0,
             ints=0, note="", noncontig=()):
        g = torch.Generator().manual_seed(seed)
        if ints:
            logits = torch.randint(-ints, ints + 1, (b, v), generator=g).to(f64)
        else:
            logits = torch.randn(b, v, generator=g, dtype=f64) * scale + offset
        if banned:
            drop = torch.rand(b, v, generator=g) < banned
            drop[:, 0] = False
            logits[drop] = -inf
        prev = torch.randint(0, v, (b, length), generator=g)
        add(name, logits.to(dtype), prev, penalty, temperature, min_p, seed, note, noncontig)

    example = torch.tensor([[2.0, 1.0, 0.0, -1.0], [1.0, -1.0, 0.5, 3.0]])
    add("readable-example", example, [[0, 0], [1, 3]], 2.0, 1.0, 0.2, 0,
        "the example of the prompt: z = [[1, 1, 0, -1], [1, -2, 0.5, 1.5]]; ratios below 0.2 are dropped")
    add("readable-temperature", example, [[0, 0], [1, 3]], 2.0, 2.0, 0.2, 1,
        "temperature 2 before the filter: the ratios become exp((z - z_max) / 2), row 0 keeps all 4 tokens")
    add("readable-negative-logits", torch.tensor([[-1.0, -2.0, -0.5, -3.0]]), [[0, 2]], 3.0, 1.0, 0.1, 2,
        "negative logits of repeated tokens are MULTIPLIED by the penalty: -1 -> -3, -0.5 -> -1.5 (dividing "
        "would raise them)")
    add("readable-repeats-once", torch.tensor([[3.0, 2.0, 1.0, 0.0]]), [[0, 0, 0, 0, 1]], 2.0, 1.0, 0.1, 3,
        "token 0 appears four times but is penalised once: 3 -> 1.5, not 3 / 2**4")
    add("readable-min-p-1-ties", torch.tensor([[1.0, 3.0, 3.0, 0.0], [2.0, 0.0, -1.0, 1.0]]), [[3], [1]], 1.0, 1.0,
        1.0, 4, "min_p = 1 keeps exactly the tokens tied with the maximum (>=, not >): row 0 keeps tokens 1 and 2",
        exact=True)
    add("readable-zero-logit-repeated", torch.tensor([[0.0, 1.0, -1.0, 2.0]]), [[0, 2]], 2.0, 1.0, 0.05, 5,
        "a repeated token with logit exactly 0 stays 0 (0 / penalty = 0 * penalty)")
    rand("min-p-0", 6, 4, 20, 1.3, 0.7, 0.0, note="min_p = 0: nothing is filtered, probs = softmax(z / T)")
    rand("min-p-0-float64", 7, 3, 12, 1.5, 1.3, 0.0, dtype=f64, banned=0.3,
         note="min_p = 0 with -inf logits: banned tokens keep probability 0")
    add("min-p-1-float64", torch.randint(-2, 3, (5, 8), generator=torch.Generator().manual_seed(8)).to(f64),
        torch.randint(0, 8, (5, 3), generator=torch.Generator().manual_seed(9)), 2.0, 0.5, 1.0, 8,
        "min_p = 1 on integer logits: only the tokens tied with the maximum survive", exact=True)
    rand("penalty-1", 10, 4, 16, 1.0, 0.9, 0.1, note="penalty = 1.0: no penalty at all")
    rand("penalty-below-1", 11, 4, 16, 0.6, 1.0, 0.1,
         note="penalty 0.6 < 1 rewards repeats: positive logits / 0.6 grow, negative * 0.6 move toward 0")
    rand("penalty-large", 12, 4, 10, 5.0, 1.0, 0.15, scale=2.0,
         note="a large penalty: a repeated top token can fall below the threshold")
    rand("no-prev-tokens", 13, 3, 12, 1.8, 0.8, 0.1, length=0, note="prev_tokens has shape (B, 0): nothing penalised")
    rand("all-neutral", 14, 3, 10, 1.0, 1.0, 0.0, length=0,
         note="min_p = 0, penalty = 1, temperature = 1, no previous tokens: plain softmax sampling")
    add("all-edges", torch.randint(-2, 3, (4, 7), generator=torch.Generator().manual_seed(15)).to(f32),
        torch.zeros(4, 0, dtype=torch.long), 1.0, 1.0, 1.0, 15,
        "min_p = 1, penalty = 1, no previous tokens: the tokens tied with the maximum, equally likely", exact=True)
    rand("repeats-count-once", 16, 4, 8, 1.6, 1.0, 0.1, length=20,
         note="20 previous tokens over a vocabulary of 8: many repeats, each distinct token penalised once")
    rand("banned", 17, 5, 30, 1.4, 0.9, 0.05, banned=0.4, length=10,
         note="-inf logits (some of them repeated): probability 0, never drawn; -inf * penalty stays -inf")
    rand("integer-logits", 18, 6, 12, 2.0, 1.0, 0.3, ints=3,
         note="integer logits with exact zeros and ties; penalty 2")
    rand("batch", 19, 8, 50, 1.2, 0.8, 0.05)
    rand("float64", 20, 4, 100, 1.3, 1.1, 0.02, dtype=f64)
    rand("vocab-1000", 21, 3, 1000, 1.2, 1.2, 0.1, scale=2.0, length=30, note="a realistic vocabulary")
    rand("vocab-1000-float64", 22, 2, 1000, 1.5, 0.9, 0.02, scale=2.0, dtype=f64, length=50)
    rand("large-logits", 23, 4, 20, 1.1, 1.0, 0.1, scale=1.5, offset=300.0,
         note="logits around 300: exp() without subtracting the row max overflows float32")
    rand("large-logits-float64", 24, 3, 20, 1.2, 0.8, 0.1, scale=2.0, offset=-2000.0, dtype=f64,
         note="logits around -2000: each is multiplied by the penalty if repeated; exp() alone underflows")
    rand("high-temperature", 25, 4, 30, 1.3, 5.0, 0.3,
         note="temperature 5 flattens the distribution BEFORE the filter, so many tokens pass min_p = 0.3")
    rand("low-temperature", 26, 4, 30, 1.3, 0.25, 0.05, note="temperature 0.25 sharpens before the filter")
    many = torch.tensor([[1.5, 0.5, 0.0, -0.5, 1.0, -2.0]]).repeat(1000, 1)
    add("many-rows", many, torch.tensor([[4, 1]]).repeat(1000, 1), 1.5, 1.0, 0.2, 27,
        "1000 identical rows: one draw per row, 1000 draws from the same distribution")
    rand("noncontiguous", 28, 4, 12, 1.4, 0.9, 0.1, noncontig=("logits", "prev_tokens"),
         note="logits and prev_tokens are non-contiguous views")
    add("vocab-1", torch.tensor([[0.7], [-1.2]]), [[0], [0]], 1.5, 1.0, 0.5, 29, "V = 1: probability 1, token 0")
    for i, (b, v, pen, t, mp) in enumerate([(2, 7, 1.25, 0.6, 0.25), (5, 64, 1.1, 1.4, 0.08), (3, 3, 3.0, 1.0, 0.5)]):
        rand(f"random-{i}", 30 + i, b, v, pen, t, mp, dtype=f32 if i % 2 == 0 else f64)
    return out
