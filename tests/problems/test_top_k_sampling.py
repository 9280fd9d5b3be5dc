"""top-k-sampling: the reference agrees with an independent sort-based filter (numpy) and
torch.distributions.Categorical on every stored case, correct variants pass, realistic bugs fail."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from drillcli.harness import build_inputs
from tests.support import graders_check, assert_rejected, assert_within_half_tolerance, describe, reference, stored_cases

PROBLEM = "top-k-sampling"

CORRECT = {
    "sort-threshold-manual-softmax": """
        import torch
        def top_k_sample(logits, k, num_samples, generator):
            s = torch.sort(logits, dim=-1, descending=True).values
            thr = s[:, min(k, logits.shape[1]) - 1].unsqueeze(1)
            z = torch.where(logits >= thr, logits, torch.full_like(logits, -torch.inf))
            z = z - z.max(dim=1, keepdim=True).values
            e = torch.exp(z)
            p = e / e.sum(dim=1, keepdim=True)
            return p, torch.multinomial(p, num_samples, replacement=True, generator=generator)
    """,
    "kthvalue-gumbel-over-kept": """
        import torch
        def top_k_sample(logits, k, num_samples, generator):
            V = logits.shape[-1]
            thr = -torch.kthvalue(-logits, min(k, V), dim=-1, keepdim=True).values
            z = logits.masked_fill(logits < thr, float("-inf"))
            probs = torch.softmax(z, -1)
            m = int((z > float("-inf")).sum(-1).max())          # the most tokens any row keeps
            vals, idx = torch.topk(z, m, dim=-1)                # (B, m), ties included
            u = torch.rand(logits.shape[0], num_samples, m, generator=generator, dtype=torch.float64)
            g = -torch.log(-torch.log(u.clamp_min(1e-300)))     # Gumbel(0, 1)
            pos = (vals.double().unsqueeze(1) + g).argmax(-1)   # (B, n) positions among the kept
            return probs, torch.gather(idx, 1, pos)
    """,
    "numpy-rows-searchsorted": """
        import numpy as np, torch
        def top_k_sample(logits, k, num_samples, generator):
            x = logits.double().numpy()
            probs = np.zeros_like(x)
            for b, row in enumerate(x):
                thr = np.sort(row)[::-1][min(k, len(row)) - 1]
                keep = row >= thr
                e = np.where(keep, np.exp(row - row.max()), 0.0)
                probs[b] = e / e.sum()
            cdf = torch.from_numpy(np.cumsum(probs, axis=1))
            u = torch.rand(len(x), num_samples, generator=generator, dtype=torch.float64) * cdf[:, -1:]
            s = torch.searchsorted(cdf, u, right=True).clamp_max(x.shape[1] - 1)
            return torch.from_numpy(probs).to(logits.dtype), s
    """,
    "topk-gather-sample-map-back": """
        import torch
        def top_k_sample(logits, k, num_samples, generator):
            V = logits.shape[-1]
            kth = torch.topk(logits, min(k, V), dim=-1).values[..., -1:]
            keep = logits >= kth
            p = torch.softmax(logits.masked_fill(~keep, float("-inf")).double(), -1)
            # sample among the kept ids only, then map positions back to token ids
            order = torch.argsort(keep.long(), dim=-1, descending=True, stable=True)
            pk = torch.gather(p, -1, order)
            pos = torch.multinomial(pk, num_samples, replacement=True, generator=generator)
            return p.to(logits.dtype), torch.gather(order, -1, pos)
    """,
}

_TEMPLATE = """
import torch
def top_k_sample(logits, k, num_samples, generator):
    V = logits.shape[-1]
    k = min(k, V)
    {body}
    return probs, samples
"""
_SAMPLE = "samples = torch.multinomial(probs, num_samples, replacement=True, generator=generator)"


def _src(body):
    return _TEMPLATE.format(body=body)


BUGS = {
    "exactly-k-drops-ties": _src(f"""vals, idx = torch.topk(logits, k, dim=-1)
    probs = torch.zeros_like(logits).scatter(-1, idx, torch.softmax(vals, -1))
    {_SAMPLE}"""),
    "strict-greater-drops-kth": _src(f"""kth = torch.topk(logits, k, dim=-1).values[:, -1:]
    probs = torch.softmax(logits.masked_fill(logits <= kth, float('-inf')), -1)
    probs = torch.nan_to_num(probs)
    probs[probs.sum(-1) == 0] = 1.0 / V
    {_SAMPLE}"""),
    "keeps-k-plus-one": _src(f"""s = torch.sort(logits, -1, descending=True).values
    kth = s[:, min(k, V - 1)].unsqueeze(-1)
    probs = torch.softmax(logits.masked_fill(logits < kth, float('-inf')), -1)
    {_SAMPLE}"""),
    "no-renormalisation": _src(f"""kth = torch.topk(logits, k, dim=-1).values[:, -1:]
    probs = torch.softmax(logits, -1) * (logits >= kth)
    {_SAMPLE}"""),
    "masks-with-zero-not-minus-inf": _src(f"""kth = torch.topk(logits, k, dim=-1).values[:, -1:]
    probs = torch.softmax(logits.masked_fill(logits < kth, 0.0), -1)
    {_SAMPLE}"""),
    "samples-positions-not-token-ids": _src("""vals, idx = torch.topk(logits, k, dim=-1)
    kth = vals[:, -1:]
    probs = torch.softmax(logits.masked_fill(logits < kth, float('-inf')), -1)
    samples = torch.multinomial(torch.gather(probs, -1, idx), num_samples, replacement=True, generator=generator)"""),
    "ignores-the-generator": _src("""kth = torch.topk(logits, k, dim=-1).values[:, -1:]
    probs = torch.softmax(logits.masked_fill(logits < kth, float('-inf')), -1)
    samples = torch.multinomial(probs, num_samples, replacement=True)"""),
    "samples-from-unfiltered-softmax": _src("""kth = torch.topk(logits, k, dim=-1).values[:, -1:]
    probs = torch.softmax(logits.masked_fill(logits < kth, float('-inf')), -1)
    samples = torch.multinomial(torch.softmax(logits, -1), num_samples, replacement=True, generator=generator)"""),
    "no-clamp-of-k": _src(f"""kth = torch.topk(logits, k, dim=-1).values[:, -1:]
    probs = torch.softmax(logits.masked_fill(logits < kth, float('-inf')), -1)
    {_SAMPLE}""").replace("    k = min(k, V)\n", ""),
    "masks-logits-in-place": _src(f"""kth = torch.topk(logits, k, dim=-1).values[:, -1:]
    logits[logits < kth] = float('-inf')
    probs = torch.softmax(logits, -1)
    {_SAMPLE}"""),
    "private-generator-seeded-from-given": _src("""kth = torch.topk(logits, k, dim=-1).values[:, -1:]
    probs = torch.softmax(logits.masked_fill(logits < kth, float('-inf')), -1)
    private = torch.Generator().manual_seed(int(torch.randint(2**62, (1,), generator=generator)))
    samples = torch.multinomial(probs, num_samples, replacement=True, generator=private)"""),
}


EXPECTED_STATUS = {"ignores-the-generator": "forbidden", "private-generator-seeded-from-given": "forbidden", "no-clamp-of-k": "error", "masks-logits-in-place": "modified_input"}


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass(grade_source, name):
    assert_within_half_tolerance(grade_source(PROBLEM, CORRECT[name]))


@pytest.mark.parametrize("name", BUGS)
def test_bugs_fail(grade_source, name):
    verdict = grade_source(PROBLEM, BUGS[name])
    assert verdict.status == EXPECTED_STATUS.get(name, "failed"), describe(verdict)
    assert_rejected(verdict)


def _independent_probs(logits: np.ndarray, k: int) -> np.ndarray:
    out = np.zeros_like(logits, dtype=np.float64)
    for b, row in enumerate(logits.astype(np.float64)):
        kth = np.sort(row)[::-1][min(k, len(row)) - 1]
        keep = row >= kth
        e = np.where(keep, np.exp(row - row.max()), 0.0)
        out[b] = e / e.sum()
    return out


def test_reference_matches_independent_filter_on_every_case():
    ref = reference(PROBLEM)
    for case in stored_cases(PROBLEM):
        args, _, _ = build_inputs(case)
        logits, k, n = args
        expected = _independent_probs(logits.numpy(), k)
        probs, samples = ref(*args, torch.Generator().manual_seed(case.seed))
        tol = dict(atol=1e-6, rtol=1e-4) if logits.dtype == torch.float32 else dict(atol=1e-12, rtol=1e-9)
        np.testing.assert_allclose(probs.double().numpy(), expected, **tol, err_msg=case.name)
        np.testing.assert_allclose(case.outputs["probs"], expected.astype(case.outputs["probs"].dtype),
                                   atol=1e-7, rtol=1e-6, err_msg=case.name)
        # the kept set, sampled through torch.distributions, gives the same distribution
        masked = logits.double().masked_fill(torch.from_numpy(expected) == 0, float("-inf"))
        torch.testing.assert_close(torch.distributions.Categorical(logits=masked).probs, torch.from_numpy(expected))
        assert samples.shape == (logits.shape[0], n)


def test_reference_samples_pass_the_statistical_check():
    for case in stored_cases(PROBLEM):
        assert graders_check(PROBLEM, case, dict(case.outputs)) is None, case.name


def test_ties_keep_more_than_k():
    cases = {c.name: c for c in stored_cases(PROBLEM)}
    probs = cases["readable-tie-at-k"].outputs["probs"]
    assert (probs > 0).sum() == 3 and cases["readable-tie-at-k"].inputs["k"] == 2
