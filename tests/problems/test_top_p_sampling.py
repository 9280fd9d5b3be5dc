"""top-p-sampling: the reference agrees with an independent per-row nucleus (numpy, written
from the prompt's rule) on every stored case, correct variants pass, realistic bugs fail."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from drillcli.graders import top_p_sampling as grader
from drillcli.harness import build_inputs
from tests.support import graders_check, assert_rejected, assert_within_half_tolerance, describe, reference, stored_cases

PROBLEM = "top-p-sampling"

CORRECT = {
    "inclusive-cumsum-searchsorted": """
        import torch
        def top_p_sample(logits, p, num_samples, generator):
            probs = torch.softmax(logits.double(), dim=-1)
            sp, _ = torch.sort(probs, dim=-1, descending=True)
            csum = torch.cumsum(sp, dim=-1)
            # first sorted position whose inclusive sum reaches p; p = 1 may never be reached
            n_keep = torch.searchsorted(csum, torch.full((probs.shape[0], 1), p, dtype=torch.float64)) + 1
            n_keep = n_keep.clamp(max=probs.shape[-1])
            if p >= 1:
                n_keep = (sp > 0).sum(-1, keepdim=True)
            last = sp.gather(-1, n_keep - 1)
            q = torch.where(probs >= last, probs, 0.0)
            q = q / q.sum(-1, keepdim=True)
            s = torch.multinomial(q, num_samples, replacement=True, generator=generator)
            return q.to(logits.dtype), s
    """,
    "hf-ascending-sort-masked-logits": """
        import torch
        def top_p_sample(logits, p, num_samples, generator):
            sorted_logits, sorted_idx = torch.sort(logits, descending=False)
            cum = sorted_logits.softmax(dim=-1).cumsum(dim=-1)
            remove_sorted = cum <= (1 - p)
            remove_sorted[..., -1:] = False
            remove = remove_sorted.scatter(1, sorted_idx, remove_sorted)
            probs = torch.softmax(logits, -1)
            last = probs.masked_fill(remove, float("inf")).min(-1, keepdim=True).values
            keep = probs >= last                                  # ties with the last kept
            out = torch.softmax(logits.masked_fill(~keep, float("-inf")), dim=-1)
            return out, torch.multinomial(out, num_samples, replacement=True, generator=generator)
    """,
    "python-loop-per-row-inverse-cdf": """
        import torch
        def top_p_sample(logits, p, num_samples, generator):
            rows = []
            for row in torch.softmax(logits.double(), -1):
                vals = sorted(row.tolist(), reverse=True)
                total, last = 0.0, vals[0]
                for v in vals:
                    if total >= p:
                        break
                    total += v
                    last = v
                keep = row >= last
                q = torch.where(keep, row, torch.zeros_like(row))
                rows.append(q / q.sum())
            probs = torch.stack(rows)
            cdf = probs.cumsum(-1)
            u = torch.rand(probs.shape[0], num_samples, generator=generator, dtype=torch.float64) * cdf[:, -1:]
            s = torch.searchsorted(cdf, u, right=True).clamp_max(probs.shape[-1] - 1)
            return probs.to(logits.dtype), s
    """,
    "sorted-space-gumbel-map-back": """
        import torch
        def top_p_sample(logits, p, num_samples, generator):
            probs = torch.softmax(logits, -1)
            sp, idx = probs.sort(dim=-1, descending=True, stable=True)
            before = torch.cat([torch.zeros_like(sp[:, :1]), sp.cumsum(-1)[:, :-1]], dim=-1)
            n_keep = (before < p).sum(-1, keepdim=True)
            last = sp.gather(-1, n_keep - 1)
            keep_sorted = sp >= last
            out = torch.zeros_like(probs).scatter(-1, idx, torch.where(keep_sorted, sp, 0.0))
            out = out / out.sum(-1, keepdim=True)
            z = torch.where(keep_sorted, sp.double().log(), -torch.inf)
            u = torch.rand(probs.shape[0], num_samples, probs.shape[1], generator=generator, dtype=torch.float64)
            pos = (z.unsqueeze(1) - torch.log(-torch.log(u.clamp_min(1e-300)))).argmax(-1)
            return out, torch.gather(idx, 1, pos)
    """,
}

_TEMPLATE = """
import torch
def top_p_sample(logits, p, num_samples, generator):
    probs = torch.softmax(logits, dim=-1)
    sp, idx = probs.sort(dim=-1, descending=True, stable=True)
    {body}
    return probs, samples
"""
_SCATTER = """keep = torch.zeros_like(keep_sorted).scatter(-1, idx, keep_sorted)
    probs = torch.where(keep, probs, 0.0)
    probs = probs / probs.sum(-1, keepdim=True)
    samples = torch.multinomial(probs, num_samples, replacement=True, generator=generator)"""


def _src(body):
    return _TEMPLATE.format(body=body)


BUGS = {
    "drops-the-crossing-token": _src("""csum = sp.cumsum(-1)
    keep_sorted = csum <= p
    keep_sorted[:, 0] = True
    """ + _SCATTER),
    "no-tie-expansion": _src("""before = sp.cumsum(-1) - sp
    keep_sorted = before < p
    """ + _SCATTER),
    "sorted-ascending": _src("""sp, idx = probs.sort(dim=-1, descending=False)
    before = sp.cumsum(-1) - sp
    keep_sorted = before < p
    keep_sorted[:, -1] = True
    """ + _SCATTER),
    "no-sort-vocabulary-order": _src("""before = probs.cumsum(-1) - probs
    keep = before < p
    probs = torch.where(keep, probs, 0.0)
    probs = probs / probs.sum(-1, keepdim=True)
    samples = torch.multinomial(probs, num_samples, replacement=True, generator=generator)"""),
    "returns-sorted-probs": _src("""before = sp.cumsum(-1) - sp
    last = sp.gather(-1, (before < p).sum(-1, keepdim=True) - 1)
    sp = torch.where(sp >= last, sp, 0.0)
    probs = sp / sp.sum(-1, keepdim=True)
    samples = torch.gather(idx, 1, torch.multinomial(probs, num_samples, replacement=True, generator=generator))"""),
    "no-renormalisation": _src("""before = sp.cumsum(-1) - sp
    last = sp.gather(-1, (before < p).sum(-1, keepdim=True) - 1)
    probs = torch.where(probs >= last, probs, 0.0)
    samples = torch.multinomial(probs, num_samples, replacement=True, generator=generator)"""),
    "samples-sorted-positions": _src("""before = sp.cumsum(-1) - sp
    last = sp.gather(-1, (before < p).sum(-1, keepdim=True) - 1)
    probs = torch.where(probs >= last, probs, 0.0)
    probs = probs / probs.sum(-1, keepdim=True)
    samples = torch.multinomial(torch.sort(probs, -1, descending=True).values, num_samples, replacement=True,
                                generator=generator)"""),
    "ignores-the-generator": _src("""before = sp.cumsum(-1) - sp
    last = sp.gather(-1, (before < p).sum(-1, keepdim=True) - 1)
    probs = torch.where(probs >= last, probs, 0.0)
    probs = probs / probs.sum(-1, keepdim=True)
    samples = torch.multinomial(probs, num_samples, replacement=True)"""),
    "first-reach-index-misses-p-1": _src("""csum = sp.cumsum(-1)
    n_keep = (csum >= p).int().argmax(-1, keepdim=True) + 1
    last = sp.gather(-1, n_keep - 1)
    probs = torch.where(probs >= last, probs, 0.0)
    probs = probs / probs.sum(-1, keepdim=True)
    samples = torch.multinomial(probs, num_samples, replacement=True, generator=generator)"""),
    "private-generator-seeded-from-given": _src("""before = sp.cumsum(-1) - sp
    last = sp.gather(-1, (before < p).sum(-1, keepdim=True) - 1)
    probs = torch.where(probs >= last, probs, 0.0)
    probs = probs / probs.sum(-1, keepdim=True)
    private = torch.Generator().manual_seed(int(torch.randint(2**62, (1,), generator=generator)))
    samples = torch.multinomial(probs, num_samples, replacement=True, generator=private)"""),
}


EXPECTED_STATUS = {"ignores-the-generator": "forbidden", "private-generator-seeded-from-given": "forbidden"}


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass(grade_source, name):
    assert_within_half_tolerance(grade_source(PROBLEM, CORRECT[name]))


@pytest.mark.parametrize("name", BUGS)
def test_bugs_fail(grade_source, name):
    verdict = grade_source(PROBLEM, BUGS[name])
    assert verdict.status == EXPECTED_STATUS.get(name, "failed"), describe(verdict)
    assert_rejected(verdict)


def _independent_probs(logits: np.ndarray, p: float) -> np.ndarray:
    """The prompt's rule, row by row in float64: walk down the sorted probabilities."""
    out = np.zeros(logits.shape, dtype=np.float64)
    for b, row in enumerate(logits.astype(np.float64)):
        e = np.exp(row - row.max())
        probs = e / e.sum()
        total, last = 0.0, None
        for v in sorted(probs, reverse=True):
            if last is not None and total >= p:
                break
            total += v
            last = v
        keep = probs >= last
        out[b] = np.where(keep, probs, 0.0) / probs[keep].sum()
    return out


def test_reference_matches_independent_rule_on_every_case():
    ref = reference(PROBLEM)
    for case in stored_cases(PROBLEM):
        args, _, _ = build_inputs(case)
        logits, p, n = args
        expected = _independent_probs(logits.numpy(), p)
        probs, samples = ref(*args, torch.Generator().manual_seed(case.seed))
        tol = dict(atol=1e-6, rtol=1e-4) if logits.dtype == torch.float32 else dict(atol=1e-12, rtol=1e-9)
        np.testing.assert_allclose(probs.double().numpy(), expected, **tol, err_msg=case.name)
        np.testing.assert_allclose(case.outputs["probs"], expected.astype(case.outputs["probs"].dtype),
                                   atol=1e-7, rtol=1e-6, err_msg=case.name)
        masked = logits.double().masked_fill(torch.from_numpy(expected) == 0, float("-inf"))
        torch.testing.assert_close(torch.distributions.Categorical(logits=masked).probs, torch.from_numpy(expected))
        assert samples.shape == (logits.shape[0], n)


def test_reference_samples_pass_the_statistical_check():
    for case in stored_cases(PROBLEM):
        assert graders_check(PROBLEM, case, dict(case.outputs)) is None, case.name


def test_p_keeps_its_margin():
    for case in stored_cases(PROBLEM):
        logits, p = case.inputs["logits"].astype(np.float64), case.inputs["p"]
        if p >= 1:
            continue
        e = np.exp(logits - logits.max(-1, keepdims=True))
        csum = np.cumsum(np.sort(e / e.sum(-1, keepdims=True), -1)[:, ::-1], -1)
        assert np.abs(csum - p).min() >= grader.MARGIN, case.name
