"""temperature-sampling: the reference agrees with torch.distributions.Categorical on every
stored case, correct variants (other samplers included) pass, realistic bugs fail."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from drillcli.graders import temperature_sampling as grader
from drillcli.harness import build_inputs
from tests.support import graders_check, assert_rejected, assert_within_half_tolerance, describe, reference, stored_cases

PROBLEM = "temperature-sampling"

CORRECT = {
    "gumbel-max": """
        import torch
        def temperature_sample(logits, temperature, num_samples, generator):
            z = logits / temperature
            z = z - z.max(dim=-1, keepdim=True).values
            e = z.exp()
            probs = e / e.sum(-1, keepdim=True)
            u = torch.rand(*logits.shape[:-1], num_samples, logits.shape[-1], generator=generator,
                           dtype=torch.float64).clamp_min(1e-300)
            g = -torch.log(-torch.log(u))
            samples = (z.double().unsqueeze(1) + g).argmax(dim=-1)
            return probs, samples
    """,
    "inverse-cdf-searchsorted": """
        import torch
        def temperature_sample(logits, temperature, num_samples, generator):
            probs = torch.log_softmax(logits * (1.0 / temperature), dim=-1).exp()
            cdf = probs.double().cumsum(-1)
            u = torch.rand(probs.shape[0], num_samples, generator=generator, dtype=torch.float64)
            u = u * cdf[:, -1:]
            samples = torch.searchsorted(cdf, u, right=True).clamp_max(probs.shape[-1] - 1)
            return probs, samples
    """,
    "float64-then-multinomial-per-row": """
        import torch
        def temperature_sample(logits, temperature, num_samples, generator):
            p = torch.softmax(logits.double() / temperature, dim=1)
            rows = [torch.multinomial(p[b], num_samples, replacement=True, generator=generator)
                    for b in range(p.shape[0])]
            return p.to(logits.dtype), torch.stack(rows)
    """,
}

_TEMPLATE = """
import torch
def temperature_sample(logits, temperature, num_samples, generator):
    probs = {probs}
    samples = {samples}
    return probs, samples
"""
_P = "torch.softmax(logits / temperature, dim=-1)"
_S = "torch.multinomial(probs, num_samples, replacement=True, generator=generator)"


def _src(probs=_P, samples=_S):
    return _TEMPLATE.format(probs=probs, samples=samples)


BUGS = {
    "multiplies-by-temperature": _src(probs="torch.softmax(logits * temperature, dim=-1)"),
    "softmax-over-batch-axis": _src(probs="torch.softmax(logits / temperature, dim=0)"),
    "temperature-on-probabilities": _src(probs="torch.softmax(logits, dim=-1) / temperature"),
    "naive-exp-overflows": _src(probs="torch.exp(logits / temperature) / torch.exp(logits / temperature).sum(-1, keepdim=True)"),
    "ignores-the-generator": _src(samples="torch.multinomial(probs, num_samples, replacement=True)"),
    "samples-untempered-distribution": _src(
        samples="torch.multinomial(torch.softmax(logits, -1), num_samples, replacement=True, generator=generator)"),
    "argmax-instead-of-sampling": _src(samples="probs.argmax(-1, keepdim=True).expand(-1, num_samples)"),
    "reseeds-the-generator": _src(
        samples="torch.multinomial(probs, num_samples, replacement=True, generator=torch.Generator().manual_seed(0))"),
    "seeds-the-global-rng": _src(
        samples="(torch.manual_seed(1234), torch.multinomial(probs, num_samples, replacement=True))[1]"),
    "private-generator-seeded-from-given": _src(samples="torch.multinomial(probs, num_samples, replacement=True, "
                                                "generator=torch.Generator().manual_seed(int(torch.randint(2**62, (1,), generator=generator))))"),
    "global-rng-seeded-from-given": _src(
        samples="(torch.manual_seed(generator.initial_seed()), torch.multinomial(probs, num_samples, replacement=True))[1]"),
    "probability-power-form": _src(probs="torch.softmax(logits, dim=-1) ** (1 / temperature)").replace(
        "    samples =", "    probs = probs / probs.sum(-1, keepdim=True)\n    samples ="),
    "probability-power-form-in-float64": _src(
        probs="torch.softmax(torch.log(torch.softmax(logits.double(), -1)) / temperature, -1).to(logits.dtype)"),
    "divides-logits-in-place": _src(probs="torch.softmax(logits.div_(temperature), dim=-1)"),
}


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass(grade_source, name):
    assert_within_half_tolerance(grade_source(PROBLEM, CORRECT[name]))


# these crash on a hostile case (NaN or -inf rows reach torch.multinomial) besides failing others
EXPECTED_STATUS = {"softmax-over-batch-axis": "error", "naive-exp-overflows": "error",
                   "divides-logits-in-place": "modified_input",
                   **dict.fromkeys(["ignores-the-generator", "reseeds-the-generator", "seeds-the-global-rng",
                                    "private-generator-seeded-from-given", "global-rng-seeded-from-given"], "forbidden")}


@pytest.mark.parametrize("name", BUGS)
def test_bugs_fail(grade_source, name):
    verdict = grade_source(PROBLEM, BUGS[name])
    want = EXPECTED_STATUS.get(name, "failed")
    assert verdict.status == want, describe(verdict)
    assert_rejected(verdict)


def test_reference_matches_categorical_on_every_case():
    ref = reference(PROBLEM)
    for case in stored_cases(PROBLEM):
        args, _, _ = build_inputs(case)
        logits, t, n = args
        probs, samples = ref(*args, torch.Generator().manual_seed(case.seed))
        expected = torch.distributions.Categorical(logits=logits.double() / t).probs
        torch.testing.assert_close(probs.double(), expected, atol=1e-6 if logits.dtype == torch.float32 else 1e-12,
                                   rtol=1e-4 if logits.dtype == torch.float32 else 1e-9, msg=case.name)
        torch.testing.assert_close(case.outputs["probs"], expected.to(logits.dtype).numpy(), msg=case.name)
        assert samples.shape == (logits.shape[0], n) and samples.dtype == torch.int64


def test_reference_samples_pass_the_statistical_check():
    for case in stored_cases(PROBLEM):
        assert graders_check(PROBLEM, case, dict(case.outputs)) is None, case.name


def test_check_rejects_a_shifted_distribution():
    case = next(c for c in stored_cases(PROBLEM) if c.name == "readable-t1")
    counts = case.outputs["counts"].copy()
    counts[0, 3] -= 1200     # move 3% of the mass from token 3 to token 2
    counts[0, 2] += 1200
    assert "total variation" in graders_check(PROBLEM, case, {**case.outputs, "counts": counts})
    banned = next(c for c in stored_cases(PROBLEM) if c.name == "readable-banned")
    counts = banned.outputs["counts"].copy()
    counts[0, 1] += 1
    counts[0, 0] -= 1
    assert "probability 0" in graders_check(PROBLEM, banned, {**banned.outputs, "counts": counts})


def test_bound_is_tight_enough_to_matter():
    # with 40000 draws over 4 tokens the bound is about 2.2%: a T = 1 sampler on the T = 0.5 case is far outside
    p = np.array([0.002144, 0.015842, 0.117059, 0.864955])
    assert grader.tv_bound(p, 40000) < 0.025
