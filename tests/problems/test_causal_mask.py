"""causal-mask: the reference agrees with torch, correct variants pass, realistic bugs fail."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from drillcli.harness import build_inputs
from tests.support import assert_near_miss, assert_rejected, assert_within_half_tolerance, describe, reference, stored_cases

PROBLEM = "causal-mask"

CORRECT = {
    "arange-compare": """
        import torch
        def causal_mask(seq_len, device=None):
            i = torch.arange(seq_len, device=device)
            return i[:, None] >= i[None, :]
    """,
    "not-triu-above-diagonal": """
        import torch
        def causal_mask(seq_len, device=None):
            ones = torch.ones(seq_len, seq_len, dtype=torch.bool, device=device)
            return ~torch.triu(ones, diagonal=1)
    """,
    "float-tril-then-bool": """
        import torch
        def causal_mask(seq_len, device=None):
            return torch.tril(torch.ones((seq_len, seq_len), device=device)) == 1
    """,
    "python-loops": """
        import torch
        def causal_mask(seq_len, device=None):
            m = torch.zeros(seq_len, seq_len, dtype=torch.bool, device=device)
            for i in range(seq_len):
                m[i, : i + 1] = True
            return m
    """,
}

BUGS = {
    "triu-polarity": """
        import torch
        def causal_mask(seq_len, device=None):
            return torch.triu(torch.ones(seq_len, seq_len, dtype=torch.bool, device=device))
    """,
    "strict-lower-excludes-self": """
        import torch
        def causal_mask(seq_len, device=None):
            return torch.tril(torch.ones(seq_len, seq_len, dtype=torch.bool, device=device), diagonal=-1)
    """,
    "blocked-convention-true-is-future": """
        import torch
        def causal_mask(seq_len, device=None):
            return torch.triu(torch.ones(seq_len, seq_len, dtype=torch.bool, device=device), diagonal=1)
    """,
    "float-mask-not-bool": """
        import torch
        def causal_mask(seq_len, device=None):
            return torch.tril(torch.ones(seq_len, seq_len, device=device))
    """,
    "extra-batch-head-dims": """
        import torch
        def causal_mask(seq_len, device=None):
            m = torch.tril(torch.ones(seq_len, seq_len, dtype=torch.bool, device=device))
            return m.unsqueeze(0).unsqueeze(0)
    """,
    "device-ignored": """
        import torch
        def causal_mask(seq_len, device=None):
            return torch.tril(torch.ones(seq_len, seq_len, dtype=torch.bool))
    """,
    "off-by-one-sees-next-token": """
        import torch
        def causal_mask(seq_len, device=None):
            return torch.tril(torch.ones(seq_len, seq_len, dtype=torch.bool, device=device), diagonal=1)
    """,
}

STATUS = {"device-ignored": "wrong_return"}   # a mask on the CPU where "meta" was asked


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass_within_half_tolerance(grade_source, name):
    verdict = grade_source(PROBLEM, CORRECT[name])
    assert_within_half_tolerance(verdict)


@pytest.mark.parametrize("name", BUGS)
def test_bugs_fail(grade_source, name):
    verdict = grade_source(PROBLEM, BUGS[name])
    assert verdict.status == STATUS.get(name, "failed"), describe(verdict)
    assert_rejected(verdict)


def test_moved_to_device_afterwards_passes(grade_source):
    # .to(device) after building on the CPU is wasteful on a GPU but correct: accepted
    verdict = grade_source(PROBLEM, """
        import torch
        def causal_mask(seq_len, device=None):
            m = torch.tril(torch.ones(seq_len, seq_len, dtype=torch.bool))
            return m if device is None else m.to(device)
    """)
    assert verdict.ok, describe(verdict)


@pytest.mark.parametrize("source", [
    "import torch.nn as nn\ndef causal_mask(seq_len, device=None):\n"
    "    return nn.Transformer.generate_square_subsequent_mask(seq_len, device=device) == 0\n",
    "from torch.nn import Transformer\ndef causal_mask(seq_len, device=None):\n"
    "    return Transformer.generate_square_subsequent_mask(seq_len) == 0\n",
])
def test_library_mask_is_forbidden(grade_source, source):
    verdict = grade_source(PROBLEM, source)
    assert verdict.status == "forbidden", describe(verdict)


def test_reference_matches_torch_on_every_case():
    for case in stored_cases(PROBLEM):
        args, _, _ = build_inputs(case)
        n = args[0]
        device = args[1] if len(args) > 1 and args[1] is not None else "cpu"
        mask = reference(PROBLEM)(*args)
        assert mask.dtype == torch.bool and mask.device.type == torch.device(device).type, case.name
        if mask.is_meta:   # no values on meta: the stored stand-in holds the shape and dtype
            assert mask.shape == (n, n) and case.outputs["mask"].shape == (n, n), case.name
            continue
        # nn.Transformer's additive mask: 0 where allowed, -inf where blocked
        additive = torch.nn.Transformer.generate_square_subsequent_mask(n)
        assert torch.equal(mask, additive == 0), case.name
        assert torch.equal(mask, torch.from_numpy(case.outputs["mask"])), case.name
        if n:
            # used as an attention mask it gives exactly SDPA's is_causal=True
            g = torch.Generator().manual_seed(n)
            q, k, v = (torch.randn(2, n, 4, generator=g, dtype=torch.float64) for _ in range(3))
            torch.testing.assert_close(F.scaled_dot_product_attention(q, k, v, attn_mask=mask),
                                       F.scaled_dot_product_attention(q, k, v, is_causal=True), msg=case.name)


# files written in another convention: each verdict names it
NEAR_MISSES = {"true-means-blocked": BUGS["blocked-convention-true-is-future"], "future-not-past": BUGS["triu-polarity"]}


@pytest.mark.parametrize("variant", NEAR_MISSES)
def test_near_misses_are_named(grade_source, variant):
    assert_near_miss(grade_source(PROBLEM, NEAR_MISSES[variant]), PROBLEM, variant)
