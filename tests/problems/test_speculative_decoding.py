"""speculative-decoding: the rule is checked by an exact enumeration (fractions) of every outcome of
small draft/target bigram models (the first emitted token follows the target exactly); the reference
is checked call by call against the rule evaluated exactly on the uniforms it draws, statistically
against the enumeration over many runs, and against Hugging Face's `_speculative_sampling` (which
draws the same random numbers from the global generator); correct variants pass, realistic bugs fail."""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from fractions import Fraction

import numpy as np
import pytest
import torch

from drillcli.graders import speculative_decoding as grader
from drillcli.graders.temperature_sampling import tv_bound
from drillcli.harness import build_inputs
from tests.support import (assert_near_miss, assert_rejected, assert_within_half_tolerance, describe, mutate,
                           reference, stored_cases)

PROBLEM = "speculative-decoding"

CORRECT = {
    "python-loop-ratio": """
        import torch
        def speculative_verify(draft_probs, target_probs, draft_tokens, generator):
            k = draft_tokens.shape[0]
            u = torch.rand(k, generator=generator, dtype=draft_probs.dtype)
            out = []
            for i in range(k):
                x = int(draft_tokens[i])
                if u[i] < target_probs[i, x] / draft_probs[i, x]:
                    out.append(x)
                    continue
                r = torch.clamp(target_probs[i] - draft_probs[i], min=0)
                if r.sum() == 0:
                    r = target_probs[i]
                out.append(torch.multinomial(r, 1, generator=generator).item())
                return torch.tensor(out, dtype=torch.long)
            out.append(torch.multinomial(target_probs[k], 1, generator=generator).item())
            return torch.tensor(out, dtype=torch.long)
    """,
    "vectorised-cumprod": """
        import torch
        def speculative_verify(draft_probs, target_probs, draft_tokens, generator):
            k = draft_tokens.shape[0]
            u = torch.rand(k, generator=generator, dtype=draft_probs.dtype)
            idx = torch.arange(k)
            p_x = target_probs[idx, draft_tokens]
            q_x = draft_probs[idx, draft_tokens]
            accepted = u * q_x < p_x                       # no division: q = 0 < p accepts, p = q = 0 rejects
            n = int(torch.cumprod(accepted.long(), 0).sum())
            if n == k:
                w = target_probs[k]
            else:
                w = (target_probs[n] - draft_probs[n]).clamp_min(0.0)
                w = w / w.sum() if w.sum() > 0 else target_probs[n]
            last = torch.multinomial(w.unsqueeze(0), 1, replacement=True, generator=generator)[0]
            return torch.cat([draft_tokens[:n], last])
    """,
    "numpy-float64-decisions": """
        import numpy as np, torch
        def speculative_verify(draft_probs, target_probs, draft_tokens, generator):
            k, V = draft_probs.shape
            u = torch.rand(k, generator=generator, dtype=draft_probs.dtype).double().numpy()
            q = draft_probs.double().numpy()
            p = target_probs.double().numpy()
            x = draft_tokens.numpy()
            n = 0
            while n < k:
                pq, qq = p[n, x[n]], q[n, x[n]]
                ok = pq > 0 if qq == 0 else u[n] < pq / qq
                if not ok:
                    break
                n += 1
            if n < k:
                w = np.maximum(p[n] - q[n], 0.0)
                if not w.any():
                    w = p[n]
            else:
                w = p[k]
            y = torch.multinomial(torch.from_numpy(w), 1, generator=generator)
            return torch.tensor(list(x[:n]) + [int(y)], dtype=torch.int64)
    """,
    "first-rejection-argmax-where": """
        import torch
        def speculative_verify(draft_probs, target_probs, draft_tokens, generator):
            k = len(draft_tokens)
            u = torch.rand(k, generator=generator, dtype=draft_probs.dtype)
            idx = draft_tokens[:, None]
            ratio = target_probs[:-1].gather(1, idx)[:, 0] / draft_probs.gather(1, idx)[:, 0]
            rejected = ~(u < ratio)                        # NaN (0/0) counts as rejected
            n = int(rejected.int().argmax()) if bool(rejected.any()) else k
            residual = torch.relu(target_probs[:-1] - draft_probs)          # (k, V)
            empty = residual.sum(-1, keepdim=True) == 0
            residual = torch.where(empty, target_probs[:-1], residual)
            weights = torch.cat([residual, target_probs[-1:]], 0)[n]        # row n: residual, or p_k if all accepted
            return torch.cat([draft_tokens[:n], torch.multinomial(weights, 1, generator=generator)]).long()
    """,
}
_BASE = CORRECT["python-loop-ratio"]

BUGS = {
    # the number accepted is the leading run of acceptances, not how many pass their own test
    "counts-every-acceptance": mutate(CORRECT["vectorised-cumprod"], ("int(torch.cumprod(accepted.long(), 0).sum())",
                                                                      "int(accepted.sum())")),
    "resample-from-target": mutate(_BASE, ("r = torch.clamp(target_probs[i] - draft_probs[i], min=0)",
                                           "r = target_probs[i]")),
    "residual-q-minus-p": mutate(_BASE, ("r = torch.clamp(target_probs[i] - draft_probs[i], min=0)",
                                         "r = torch.clamp(draft_probs[i] - target_probs[i], min=0)")),
    "ratio-inverted": mutate(_BASE, ("if u[i] < target_probs[i, x] / draft_probs[i, x]:",
                                     "if u[i] < draft_probs[i, x] / target_probs[i, x]:")),
    "no-bonus-token": mutate(_BASE, ("out.append(torch.multinomial(target_probs[k], 1, generator=generator).item())",
                                     "pass  # every draft accepted: nothing more to emit")),
    "bonus-from-last-draft-row": mutate(_BASE, ("torch.multinomial(target_probs[k], 1",
                                                "torch.multinomial(target_probs[k - 1], 1")),
    "python-min-nan": mutate(_BASE, ("if u[i] < target_probs[i, x] / draft_probs[i, x]:",
                                     "if u[i] < min(1.0, (target_probs[i, x] / draft_probs[i, x]).item()):")),
    "uniforms-default-dtype": mutate(_BASE, ("u = torch.rand(k, generator=generator, dtype=draft_probs.dtype)",
                                             "u = torch.rand(k, generator=generator)")),
    "uniforms-one-by-one": mutate(_BASE, ("u = torch.rand(k, generator=generator, dtype=draft_probs.dtype)\n            ", ""),
                                  ("if u[i] <", "if torch.rand(1, generator=generator, dtype=draft_probs.dtype)[0] <")),
    "emits-rejected-draft-too": mutate(_BASE, ("r = torch.clamp(target_probs[i] - draft_probs[i], min=0)",
                                               "out.append(x)\n                r = torch.clamp(target_probs[i] - draft_probs[i], min=0)")),
    "always-draws-the-bonus": mutate(_BASE, ("out.append(torch.multinomial(r, 1, generator=generator).item())",
                                             "out.append(torch.multinomial(r, 1, generator=generator).item())\n"
                                             "                torch.multinomial(target_probs[k], 1, generator=generator)")),
    "greedy-verification": """
        import torch
        def speculative_verify(draft_probs, target_probs, draft_tokens, generator):
            out = []
            for i, x in enumerate(draft_tokens.tolist()):
                best = int(target_probs[i].argmax())
                if x != best:
                    return torch.tensor(out + [best])
                out.append(x)
            return torch.tensor(out + [int(target_probs[-1].argmax())])
    """,
    "no-zero-residual-fallback": mutate(_BASE, ("if r.sum() == 0:\n                    r = target_probs[i]\n"
                                                "                ", "")),
    "global-generator": mutate(_BASE, ("u = torch.rand(k, generator=generator, dtype=draft_probs.dtype)",
                                       "u = torch.rand(k, dtype=draft_probs.dtype)")),
}

EXPECTED_STATUS = {"no-zero-residual-fallback": "error", "global-generator": "forbidden"}


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass(grade_source, name):
    assert_within_half_tolerance(grade_source(PROBLEM, CORRECT[name]))


# bugs written in a known other convention: their verdict names it
NEAR_MISSES = ("resample-from-target", "uniforms-one-by-one")


@pytest.mark.parametrize("name", BUGS)
def test_bugs_fail(grade_source, name):
    verdict = grade_source(PROBLEM, BUGS[name])
    assert verdict.status == EXPECTED_STATUS.get(name, "failed"), describe(verdict)
    assert_rejected(verdict)
    if name in NEAR_MISSES:
        assert_near_miss(verdict, PROBLEM, name)


def test_failure_message_tells_the_story(grade_source):
    verdict = grade_source(PROBLEM, BUGS["counts-every-acceptance"])
    first = next(c for c in verdict.cases if c.name == "readable-reject-first")
    assert "you emitted" in first.message and "expected [2]" in first.message, first.message
    assert "u = [0.7576" in first.detail and "0 draft(s) accepted" in first.detail, first.detail


# ---- the rule, exactly ------------------------------------------------------------------------

def _frac_table(t) -> list[list[Fraction]]:
    return [[Fraction(float(v)) for v in row] for row in np.asarray(t, dtype=np.float64)]


def _accepts(p: Fraction, q: Fraction, u: Fraction | None = None) -> Fraction | bool:
    """The probability of accepting (u None), or the decision for a given u, with the q = 0 convention."""
    if q == 0:
        return Fraction(int(p > 0)) if u is None else p > 0
    return min(Fraction(1), p / q) if u is None else u < p / q


def _residual(p_row: list[Fraction], q_row: list[Fraction], resample: str = "residual") -> list[Fraction]:
    r = [max(Fraction(0), a - b) for a, b in zip(p_row, q_row)] if resample == "residual" else list(p_row)
    if sum(r) == 0:
        r = list(p_row)
    return [x / sum(r) for x in r]


def enumerate_outcomes(P, Q, context, k, resample="residual") -> dict[tuple[int, ...], Fraction]:
    """Exact distribution of the emitted sequence of one verify step: drafts x_1..x_k sampled from the
    draft bigram Q after `context`, verified against the target bigram P."""
    v = len(P)
    dist: dict[tuple[int, ...], Fraction] = defaultdict(Fraction)
    for drafts in itertools.product(range(v), repeat=k):
        prob, prev = Fraction(1), context
        for x in drafts:
            prob *= Q[prev][x]
            prev = x
        if prob == 0:
            continue
        alive, prev, emitted = prob, context, []
        for x in drafts:
            a = _accepts(P[prev][x], Q[prev][x])
            if a < 1:
                for y, w in enumerate(_residual(P[prev], Q[prev], resample)):
                    if w:
                        dist[(*emitted, y)] += alive * (1 - a) * w
            alive *= a
            if alive == 0:
                break
            emitted.append(x)
            prev = x
        else:
            for y, w in enumerate(P[prev]):
                if w:
                    dist[(*emitted, y)] += alive * w
    return dict(dist)


def _bigram_cases():
    return [c for c in stored_cases(PROBLEM) if "_draft_table" in c.inputs]


def _first_token(dist, v):
    first = [Fraction(0)] * v
    for seq, w in dist.items():
        first[seq[0]] += w
    return first


def test_enumeration_first_token_follows_the_target_exactly():
    tables = [(c.inputs["_draft_table"], c.inputs["_target_table"], c.inputs["_context"], c.inputs["draft_tokens"].shape[1])
              for c in _bigram_cases()]
    assert len(tables) == 4
    for seed in range(6):   # more random pairs, with zeros, several k
        Q, P, c = grader.bigram_tables("random", seed=500 + seed, v=3 + seed % 3)
        tables.append((Q.numpy(), P.numpy(), c, 1 + seed % 3))
    for Qt, Pt, context, k in tables:
        Q, P = _frac_table(Qt), _frac_table(Pt)
        dist = enumerate_outcomes(P, Q, context, k)
        assert sum(dist.values()) == 1
        assert _first_token(dist, len(P)) == P[context]
        assert all(1 <= len(seq) <= k + 1 for seq in dist)


def test_enumeration_tells_the_residual_from_resampling_the_target():
    """The enumeration has power: resampling from p after a rejection does not give p."""
    Q, P = _frac_table(grader.BIGRAMS["v3"]["draft"]), _frac_table(grader.BIGRAMS["v3"]["target"])
    Q, P = [[x / 16 for x in row] for row in Q], [[x / 16 for x in row] for row in P]
    wrong = enumerate_outcomes(P, Q, 0, 2, resample="target")
    assert _first_token(wrong, 3) != P[0]


def _calls(case):
    args, _, _ = build_inputs(case)
    q, p, x = args
    u = torch.from_numpy(np.asarray(case.inputs["_u"]))
    if "_runs" not in case.inputs:
        return [(q, p, x, u[0])]
    return [(q[r], p[r], x[r], u[r]) for r in range(case.inputs["_runs"])]


def _exact_outcome(q, p, x, u):
    """(number accepted, the support the last token must come from, whether the residual was all zero),
    from the rule evaluated in exact arithmetic on the uniforms the call draws."""
    Q, P = _frac_table(q), _frac_table(p)
    k = len(x)
    for i in range(k):
        xi = int(x[i])
        if not _accepts(P[i][xi], Q[i][xi], Fraction(float(u[i]))):
            r = [max(Fraction(0), a - b) for a, b in zip(P[i], Q[i])]
            empty = sum(r) == 0
            return i, {y for y, w in enumerate(P[i] if empty else r) if w > 0}, empty
    return k, {y for y, w in enumerate(P[k]) if w > 0}, False


def test_reference_follows_the_exact_rule_on_every_call():
    ref = reference(PROBLEM)
    for case in stored_cases(PROBLEM):
        g = torch.Generator().manual_seed(case.seed)
        for r, (q, p, x, u) in enumerate(_calls(case)):
            assert torch.equal(torch.rand(len(x), generator=torch.Generator().set_state(g.get_state()), dtype=q.dtype), u)
            out = ref(q, p, x, g).tolist()
            m, support, _ = _exact_outcome(q, p, x, u)
            assert out[:-1] == x[:m].tolist() and len(out) == m + 1 and out[-1] in support, (case.name, r)
            stored = [int(t) for t in case.outputs["tokens"][r] if t >= 0]
            assert stored == out, (case.name, r)


def test_decisions_keep_a_margin():
    """No uniform lies within 1e-5 of its ratio, and no multinomial draw is within 1e-5 of a tie, so that
    correct solutions computing in another precision or order always agree."""
    for case in stored_cases(PROBLEM):
        g = torch.Generator().manual_seed(case.seed)
        for r, (q, p, x, u) in enumerate(_calls(case)):
            k, v = q.shape
            torch.rand(k, generator=g, dtype=q.dtype)
            e = torch.empty(v, dtype=torch.float64).exponential_(1, generator=g)   # what torch.multinomial draws
            qx, px = q.double()[torch.arange(k), x], p.double()[torch.arange(k), x]
            ratio = px / qx
            finite = torch.isfinite(ratio) & (ratio < 1)
            gap = (u.double() - ratio).abs() / ratio.clamp_min(1e-30)
            assert bool((gap[finite] > 1e-5).all()), (case.name, r)
            m, _, empty = _exact_outcome(q, p, x, u)
            w = p[k] if m == k else (p[m] if empty else (p[m] - q[m]).clamp_min(0))
            score = (w.double() / e).sort(descending=True).values
            if score[1] > 0:
                assert float(score[0] / score[1]) > 1 + 1e-5, (case.name, r)


def test_reference_follows_the_enumeration_statistically():
    """Many runs with fixed generators: the emitted sequences follow the exact distribution."""
    ref = reference(PROBLEM)
    n = 3000
    for name, k, seed in (("v3", 2, 0), ("v4-zeros", 3, 1)):
        Qt, Pt, context = grader.bigram_tables(name)
        q, p, x = grader.bigram_calls(Qt, Pt, context, k, n, seed)
        g = torch.Generator().manual_seed(seed)
        counts = Counter(tuple(ref(q[r], p[r], x[r], g).tolist()) for r in range(n))
        exact = enumerate_outcomes(_frac_table(Pt), _frac_table(Qt), context, k)
        outcomes = sorted(set(exact) | set(counts))
        assert set(counts) <= set(exact), "an outcome of probability 0 was emitted"
        want = np.array([float(exact.get(o, 0)) for o in outcomes])
        have = np.array([counts.get(o, 0) / n for o in outcomes])
        assert 0.5 * np.abs(want - have).sum() < tv_bound(want, n), name
        first_want = np.array([float(f) for f in _frac_table(Pt)[context]])
        first_have = np.bincount([o[0] for o, c in counts.items() for _ in range(c)], minlength=len(first_want)) / n
        assert 0.5 * np.abs(first_want - first_have).sum() < tv_bound(first_want, n), name


def test_reference_matches_hugging_face_speculative_sampling():
    """transformers' `_speculative_sampling` (assisted generation) takes logits and draws from the global
    generator the same numbers in the same order: rand_like(ratio) for the k uniforms, then one multinomial.
    It writes `u <= p/q` (no case has u equal to the ratio) and has no fallback for an all-zero residual
    (it divides by zero): those calls are skipped, with the rest of their case (the global stream would drift)."""
    import inspect

    from transformers.generation.utils import _speculative_sampling

    # transformers 4.x takes a fifth argument, is_done_candidate (False: the candidates did not end the sequence)
    extra = (False,) if "is_done_candidate" in inspect.signature(_speculative_sampling).parameters else ()
    compared = 0
    for case in stored_cases(PROBLEM):
        torch.manual_seed(case.seed)
        for r, (q, p, x, u) in enumerate(_calls(case)):
            if _exact_outcome(q, p, x, u)[2]:
                break
            k = len(x)
            tokens, n_matches = _speculative_sampling(x[None], torch.log(q)[None], k, torch.log(p)[None], *extra)
            stored = [int(t) for t in case.outputs["tokens"][r] if t >= 0]
            assert tokens[0].tolist() == stored, (case.name, r)
            assert int(n_matches) == len(stored) - 1
            compared += 1
    assert compared > 650
