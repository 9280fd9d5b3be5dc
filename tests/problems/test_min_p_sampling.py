"""min-p-sampling: the reference agrees with Hugging Face's logits processors (repetition penalty,
temperature, min-p) followed by the stated torch.multinomial draw on every stored case; correct
variants pass, realistic bugs fail, and the known other conventions are named."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from drillcli.graders import min_p_sampling as grader
from drillcli.harness import build_inputs
from tests.support import (assert_near_miss, assert_rejected, assert_within_half_tolerance, describe, mutate,
                           reference, stored_cases)

PROBLEM = "min-p-sampling"

CORRECT = {
    "rows-loop-python-set": """
        import torch
        def min_p_sample(logits, prev_tokens, penalty, temperature, min_p, generator):
            B, V = logits.shape
            out = torch.empty_like(logits)
            tokens = torch.empty(B, dtype=torch.long)
            for b in range(B):
                z = logits[b].clone()
                for t in set(prev_tokens[b].tolist()):
                    z[t] = z[t] * penalty if z[t] < 0 else z[t] / penalty
                p = torch.softmax(z / temperature, dim=0)
                p = p * (p >= min_p * p.max())
                out[b] = p / p.sum()
                tokens[b] = torch.multinomial(out[b], 1, generator=generator)[0]
            return out, tokens
    """,
    "hf-gather-scatter-log-space-threshold": """
        import math, torch
        def min_p_sample(logits, prev_tokens, penalty, temperature, min_p, generator):
            score = torch.gather(logits, 1, prev_tokens)
            score = torch.where(score < 0, score * penalty, score / penalty)
            z = logits.scatter(1, prev_tokens, score) / temperature       # duplicates write the same value
            cut = z.amax(-1, keepdim=True) + (math.log(min_p) if min_p > 0 else -math.inf)
            z = z.masked_fill(z < cut, float("-inf"))                      # p_i >= min_p p_max  <=>  z_i >= z_max + log(min_p)
            probs = torch.softmax(z, dim=-1)
            return probs, torch.multinomial(probs, num_samples=1, generator=generator).squeeze(-1)
    """,
    "float64-intermediates-count-mask": """
        import torch
        def min_p_sample(logits, prev_tokens, penalty, temperature, min_p, generator):
            x = logits.double()
            counts = torch.zeros_like(x).scatter_add_(1, prev_tokens, torch.ones(prev_tokens.shape, dtype=torch.float64))
            factor = torch.where(counts > 0, torch.full_like(x, penalty), torch.ones_like(x))
            x = torch.where(x > 0, x / factor, x * factor)
            x = x / temperature
            e = torch.exp(x - x.max(dim=1, keepdim=True).values)
            p = e / e.sum(dim=1, keepdim=True)
            p = torch.where(p < min_p * p.max(dim=1, keepdim=True).values, torch.zeros_like(p), p)
            p = p / p.sum(dim=1, keepdim=True)
            tokens = torch.multinomial(p, 1, replacement=True, generator=generator)[:, 0]
            return p.to(logits.dtype), tokens
    """,
    "numpy-probs": """
        import numpy as np, torch
        def min_p_sample(logits, prev_tokens, penalty, temperature, min_p, generator):
            z = logits.numpy().astype(np.float64)
            rows = np.repeat(np.arange(z.shape[0]), prev_tokens.shape[1])
            cols = prev_tokens.numpy().reshape(-1)
            seen = np.zeros(z.shape, dtype=bool)
            seen[rows, cols] = True
            z = np.where(seen & (z < 0), z * penalty, np.where(seen, z / penalty, z)) / temperature
            e = np.exp(z - z.max(axis=1, keepdims=True))
            p = e / e.sum(axis=1, keepdims=True)
            p[p < min_p * p.max(axis=1, keepdims=True)] = 0.0
            p /= p.sum(axis=1, keepdims=True)
            probs = torch.from_numpy(p)
            tokens = torch.stack([torch.multinomial(row, 1, generator=generator)[0] for row in probs])
            return probs.to(logits.dtype), tokens
    """,
}
_BASE = """
import torch
def min_p_sample(logits, prev_tokens, penalty, temperature, min_p, generator):
    seen = torch.zeros_like(logits, dtype=torch.bool).scatter(1, prev_tokens, True)
    z = torch.where(seen, torch.where(logits < 0, logits * penalty, logits / penalty), logits)
    probs = torch.softmax(z / temperature, dim=-1)
    keep = probs >= min_p * probs.amax(dim=-1, keepdim=True)
    probs = torch.where(keep, probs, torch.zeros_like(probs))
    probs = probs / probs.sum(dim=-1, keepdim=True)
    tokens = torch.multinomial(probs, 1, generator=generator)[:, 0]
    return probs, tokens
"""

BUGS = {
    # known other conventions (named near misses)
    "ctrl-divides-all": mutate(_BASE, ("torch.where(logits < 0, logits * penalty, logits / penalty)", "logits / penalty")),
    "penalty-per-occurrence": mutate(_BASE, ("seen = torch.zeros_like(logits, dtype=torch.bool).scatter(1, prev_tokens, True)\n"
                                             "    z = torch.where(seen, torch.where(logits < 0, logits * penalty, logits / penalty), logits)",
                                             "z = logits.clone()\n"
                                             "    for b in range(z.shape[0]):\n"
                                             "        for t in prev_tokens[b].tolist():\n"
                                             "            z[b, t] = z[b, t] * penalty if z[b, t] < 0 else z[b, t] / penalty")),
    "temperature-last": mutate(_BASE, ("probs = torch.softmax(z / temperature, dim=-1)\n"
                                       "    keep = probs >= min_p * probs.amax(dim=-1, keepdim=True)",
                                       "base = torch.softmax(z, dim=-1)\n"
                                       "    keep = base >= min_p * base.amax(dim=-1, keepdim=True)\n"
                                       "    probs = torch.softmax(z / temperature, dim=-1)")),
    "absolute-threshold": mutate(_BASE, ("keep = probs >= min_p * probs.amax(dim=-1, keepdim=True)",
                                         "keep = (probs >= min_p) | (probs == probs.amax(dim=-1, keepdim=True))")),
    # other interview bugs
    "strict-threshold": mutate(_BASE, ("keep = probs >= min_p", "keep = probs > min_p")),
    "threshold-on-logits": mutate(_BASE, ("keep = probs >= min_p * probs.amax(dim=-1, keepdim=True)",
                                          "keep = z >= min_p * z.amax(dim=-1, keepdim=True)")),
    "no-renormalisation": mutate(_BASE, ("    probs = probs / probs.sum(dim=-1, keepdim=True)\n", "")),
    "samples-unfiltered": mutate(_BASE, ("probs = torch.softmax(z / temperature, dim=-1)\n",
                                         "probs = torch.softmax(z / temperature, dim=-1)\n"
                                         "    tokens = torch.multinomial(probs, 1, generator=generator)[:, 0]\n"),
                                 ("    tokens = torch.multinomial(probs, 1, generator=generator)[:, 0]\n    return",
                                  "    return")),
    "penalty-on-probabilities": mutate(_BASE, ("z = torch.where(seen, torch.where(logits < 0, logits * penalty, logits / penalty), logits)\n"
                                               "    probs = torch.softmax(z / temperature, dim=-1)",
                                               "probs = torch.softmax(logits / temperature, dim=-1)\n"
                                               "    probs = torch.where(seen, probs / penalty, probs)")),
    "temperature-multiplies": mutate(_BASE, ("z / temperature", "z * temperature")),
    "argmax-instead-of-sampling": mutate(_BASE, ("torch.multinomial(probs, 1, generator=generator)[:, 0]",
                                                 "probs.argmax(dim=-1)")),
    "global-generator": mutate(_BASE, ("torch.multinomial(probs, 1, generator=generator)", "torch.multinomial(probs, 1)")),
    "tokens-shape-b-1": mutate(_BASE, ("torch.multinomial(probs, 1, generator=generator)[:, 0]",
                                       "torch.multinomial(probs, 1, generator=generator)")),
}
NEAR_MISSES = ("ctrl-divides-all", "penalty-per-occurrence", "temperature-last", "absolute-threshold")
# `>` keeps nothing when min_p = 1, and a threshold on negative logits (min_p * z_max > z_max) keeps nothing
# either: the row becomes 0 / 0 and torch.multinomial raises on the NaN row
EXPECTED_STATUS = {"strict-threshold": "error", "threshold-on-logits": "error", "global-generator": "forbidden",
                   "tokens-shape-b-1": "wrong_return"}


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass(grade_source, name):
    assert_within_half_tolerance(grade_source(PROBLEM, CORRECT[name]))


def test_reference_source_in_the_tests_passes(grade_source):
    assert_within_half_tolerance(grade_source(PROBLEM, _BASE))


@pytest.mark.parametrize("name", BUGS)
def test_bugs_fail(grade_source, name):
    verdict = grade_source(PROBLEM, BUGS[name])
    assert verdict.status == EXPECTED_STATUS.get(name, "failed"), describe(verdict)
    assert_rejected(verdict)
    if name in NEAR_MISSES:
        assert_near_miss(verdict, PROBLEM, name)


def test_unfiltered_draw_is_explained(grade_source):
    verdict = grade_source(PROBLEM, BUGS["samples-unfiltered"])
    messages = [c.message + "\n" + c.detail for c in verdict.cases if c.failed]
    assert any("probability 0" in m for m in messages), messages


def _hf(case):
    """Hugging Face's processors, in generate()'s order, then the stated draw."""
    from transformers.generation.logits_process import (MinPLogitsWarper, RepetitionPenaltyLogitsProcessor,
                                                        TemperatureLogitsWarper)

    args, _, _ = build_inputs(case)
    logits, prev, penalty, temperature, min_p = args
    scores = RepetitionPenaltyLogitsProcessor(penalty=float(penalty))(prev, logits.clone())
    scores = TemperatureLogitsWarper(float(temperature))(prev, scores)
    scores = MinPLogitsWarper(min_p=float(min_p))(prev, scores)
    probs = torch.softmax(scores, dim=-1)
    tokens = torch.multinomial(probs, 1, generator=torch.Generator().manual_seed(case.seed))[:, 0]
    return args, probs, tokens


def test_reference_matches_hugging_face_logits_processors_on_every_case():
    """Hugging Face: RepetitionPenaltyLogitsProcessor (negative logits * penalty, others / penalty, each
    distinct id once: it gathers and scatters, so duplicates write the same value), TemperatureLogitsWarper
    (scores / T), MinPLogitsWarper (removes probs < min_p * max, i.e. keeps >=; its min_tokens_to_keep = 1
    never acts, since the top token always satisfies p_max >= min_p * p_max for min_p <= 1), then
    softmax. Every convention matches, so every case is compared: probs within the tolerance, the
    tokens of the same torch.multinomial draw exactly, the stored fixtures as well as a fresh reference run."""
    ref = reference(PROBLEM)
    cases = stored_cases(PROBLEM)
    for case in cases:
        args, probs, tokens = _hf(case)
        tol = dict(atol=1e-6, rtol=1e-4) if probs.dtype == torch.float32 else dict(atol=1e-12, rtol=1e-9)
        ours, our_tokens = ref(*args, torch.Generator().manual_seed(case.seed))
        torch.testing.assert_close(ours, probs, **tol, msg=case.name)
        torch.testing.assert_close(torch.from_numpy(case.outputs["probs"]), probs, **tol, msg=case.name)
        assert torch.equal(our_tokens, tokens), case.name
        assert np.array_equal(case.outputs["tokens"], tokens.numpy()), case.name
    assert len(cases) >= 20


def test_min_p_keeps_its_margin():
    """No token's ratio p_i / p_max lies within 0.1% of min_p (ties with the maximum excepted), as the prompt says."""
    for case in stored_cases(PROBLEM):
        i = case.inputs
        assert not grader.near_threshold(i["logits"], i["prev_tokens"], i["penalty"], i["temperature"], i["min_p"]), case.name


def test_draws_keep_a_margin():
    """torch.multinomial(probs, 1) takes argmax(probs / E) with E ~ Exp(1) drawn from the generator: no row
    has its top two within 1e-5 of each other, so float32 and float64 probabilities draw the same token."""
    for case in stored_cases(PROBLEM):
        probs = case.outputs["probs"].astype(np.float64)
        g = torch.Generator().manual_seed(case.seed)
        e = torch.empty(probs.shape, dtype=torch.float64).exponential_(1, generator=g).numpy()
        score = np.sort(probs / e, axis=1)[:, ::-1]
        if score.shape[1] > 1:
            second = score[:, 1]
            assert ((second == 0) | (score[:, 0] > second * (1 + 1e-5))).all(), case.name
        assert np.array_equal(np.argmax(probs / e, axis=1), case.outputs["tokens"]), case.name


def test_prompt_example():
    probs, tokens = reference(PROBLEM)(torch.tensor([[2.0, 1.0, 0.0, -1.0], [1.0, -1.0, 0.5, 3.0]]),
                                       torch.tensor([[0, 0], [1, 3]]), 2.0, 1.0, 0.2, torch.Generator().manual_seed(0))
    torch.testing.assert_close(probs, torch.tensor([[0.4223, 0.4223, 0.1554, 0.0], [0.3072, 0.0, 0.1863, 0.5065]]),
                               atol=1e-4, rtol=0)
    assert tokens.tolist() == [1, 3]
    z = torch.tensor([1.0, 1.0, 0.0, -1.0])
    torch.testing.assert_close(torch.exp((z - 1) / 2), torch.tensor([1.0, 1.0, 0.6065, 0.3679]), atol=1e-4, rtol=0)
