"""sinusoidal-pe: the reference agrees with the published formulas, correct variants pass,
realistic bugs fail."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from tests.support import (assert_near_miss, assert_rejected, assert_within_half_tolerance, describe, mutate, reference,
                           stored_cases)

PROBLEM = "sinusoidal-pe"

CORRECT = {
    "annotated-transformer-exp-log": """
        import math, torch
        def sinusoidal_positions(max_len, d_model):
            pe = torch.zeros(max_len, d_model)
            position = torch.arange(0, max_len).unsqueeze(1)
            div_term = torch.exp(torch.arange(0, d_model, 2) * -(math.log(10000.0) / d_model))
            pe[:, 0::2] = torch.sin(position * div_term)
            pe[:, 1::2] = torch.cos(position * div_term)
            return pe
    """,
    "stack-and-flatten-float32-pow": """
        import torch
        def sinusoidal_positions(max_len, d_model):
            pos = torch.arange(max_len, dtype=torch.float32)
            freq = 1.0 / (10000 ** (torch.arange(0, d_model, 2, dtype=torch.float32) / d_model))
            ang = torch.outer(pos, freq)
            return torch.stack((ang.sin(), ang.cos()), dim=-1).reshape(max_len, d_model)
    """,
    "python-loops-math": """
        import math, torch
        def sinusoidal_positions(max_len, d_model):
            rows = []
            for pos in range(max_len):
                row = []
                for i in range(d_model // 2):
                    a = pos / 10000 ** (2 * i / d_model)
                    row += [math.sin(a), math.cos(a)]
                rows.append(row)
            return torch.tensor(rows, dtype=torch.float32).reshape(max_len, d_model)
    """,
    "numpy-float64": """
        import numpy as np, torch
        def sinusoidal_positions(max_len, d_model):
            pos = np.arange(max_len)[:, None]
            j = np.arange(d_model)[None, :]
            angle = pos / np.power(10000, (2 * (j // 2)) / d_model)
            pe = np.where(j % 2 == 0, np.sin(angle), np.cos(angle))
            return torch.from_numpy(pe).float()
    """,
}

BUGS = {
    "concatenated-sin-then-cos": """
        import math, torch
        def sinusoidal_positions(max_len, d_model):
            pos = torch.arange(max_len, dtype=torch.float64)[:, None]
            freq = 10000 ** (-torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)
            return torch.cat((torch.sin(pos * freq), torch.cos(pos * freq)), dim=1).float()
    """,
    "column-index-as-exponent": """
        import torch
        def sinusoidal_positions(max_len, d_model):
            pos = torch.arange(max_len, dtype=torch.float64)[:, None]
            div = 10000 ** (torch.arange(d_model, dtype=torch.float64) / d_model)
            pe = torch.zeros(max_len, d_model, dtype=torch.float64)
            pe[:, 0::2] = torch.sin(pos / div[0::2])
            pe[:, 1::2] = torch.cos(pos / div[1::2])
            return pe.float()
    """,
    "sin-and-cos-swapped": """
        import torch
        def sinusoidal_positions(max_len, d_model):
            pos = torch.arange(max_len, dtype=torch.float64)[:, None]
            freq = 10000 ** (-torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)
            pe = torch.zeros(max_len, d_model, dtype=torch.float64)
            pe[:, 0::2] = torch.cos(pos * freq)
            pe[:, 1::2] = torch.sin(pos * freq)
            return pe.float()
    """,
    "exponent-i-over-d": """
        import torch
        def sinusoidal_positions(max_len, d_model):
            pos = torch.arange(max_len, dtype=torch.float64)[:, None]
            freq = 10000 ** (-torch.arange(d_model // 2, dtype=torch.float64) / d_model)
            pe = torch.zeros(max_len, d_model, dtype=torch.float64)
            pe[:, 0::2] = torch.sin(pos * freq)
            pe[:, 1::2] = torch.cos(pos * freq)
            return pe.float()
    """,
    "log10-in-exp-formula": """
        import math, torch
        def sinusoidal_positions(max_len, d_model):
            pe = torch.zeros(max_len, d_model)
            position = torch.arange(0, max_len).unsqueeze(1)
            div_term = torch.exp(torch.arange(0, d_model, 2) * -(math.log10(10000.0) / d_model))
            pe[:, 0::2] = torch.sin(position * div_term)
            pe[:, 1::2] = torch.cos(position * div_term)
            return pe
    """,
    "positions-start-at-1": """
        import torch
        def sinusoidal_positions(max_len, d_model):
            pos = torch.arange(1, max_len + 1, dtype=torch.float64)[:, None]
            freq = 10000 ** (-torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)
            pe = torch.zeros(max_len, d_model, dtype=torch.float64)
            pe[:, 0::2] = torch.sin(pos * freq)
            pe[:, 1::2] = torch.cos(pos * freq)
            return pe.float()
    """,
    "half-precision-table": """
        import math, torch
        def sinusoidal_positions(max_len, d_model):
            pe = torch.zeros(max_len, d_model, dtype=torch.float16)
            position = torch.arange(0, max_len).unsqueeze(1).half()
            div_term = torch.exp(torch.arange(0, d_model, 2) * -(math.log(10000.0) / d_model)).half()
            pe[:, 0::2] = torch.sin(position * div_term)
            pe[:, 1::2] = torch.cos(position * div_term)
            return pe.float()
    """,
    "returns-float64": """
        import torch
        def sinusoidal_positions(max_len, d_model):
            pos = torch.arange(max_len, dtype=torch.float64)[:, None]
            freq = 10000 ** (-torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)
            return torch.stack((torch.sin(pos * freq), torch.cos(pos * freq)), -1).reshape(max_len, d_model)
    """,
}
# max_len = 0: torch.tensor([]) of an empty list of rows is shape (0,), not (0, d_model)
BUGS["empty-rows-lose-their-width"] = mutate(CORRECT["python-loops-math"], (
    "torch.tensor(rows, dtype=torch.float32).reshape(max_len, d_model)", "torch.tensor(rows, dtype=torch.float32)"))


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass_within_half_tolerance(grade_source, name):
    verdict = grade_source(PROBLEM, CORRECT[name])
    assert_within_half_tolerance(verdict)


@pytest.mark.parametrize("name", BUGS)
def test_bugs_fail(grade_source, name):
    verdict = grade_source(PROBLEM, BUGS[name])
    assert verdict.status == "failed", describe(verdict)
    assert_rejected(verdict)


def test_reference_matches_the_paper_formula_on_every_case():
    """Section 3.5 of Vaswani et al., evaluated element by element with Python's math in float64."""
    for case in stored_cases(PROBLEM):
        max_len, d = case.inputs["max_len"], case.inputs["d_model"]
        got = reference(PROBLEM)(max_len, d)
        assert got.dtype == torch.float32 and got.shape == (max_len, d), case.name
        pos = np.arange(max_len)[:, None]
        two_i = np.arange(0, d, 2)[None, :]
        expected = np.empty((max_len, d))
        expected[:, 0::2] = np.sin(pos / np.power(10000.0, two_i / d))
        expected[:, 1::2] = np.cos(pos / np.power(10000.0, two_i / d))
        # the float64 table rounded once to float32: within half an ulp of float32
        np.testing.assert_allclose(got.numpy(), expected, atol=1e-7, rtol=0, err_msg=case.name)
        np.testing.assert_array_equal(case.outputs["pe"], got.numpy(), err_msg=case.name)
        if max_len > 1:
            p, i = max_len - 1, d // 2 - 1
            assert math.isclose(float(got[p, 2 * i]), math.sin(p / 10000 ** (2 * i / d)), abs_tol=1e-6)


def test_shift_by_k_is_a_rotation_of_each_pair():
    """PE[pos + k] is PE[pos] with pair i rotated by k * w_i: the property the paper motivates."""
    pe = reference(PROBLEM)(40, 16).double()
    k = 7
    w = 10000.0 ** (-torch.arange(0, 16, 2, dtype=torch.float64) / 16)
    s, c = pe[:-k, 0::2], pe[:-k, 1::2]
    shifted_s = s * torch.cos(k * w) + c * torch.sin(k * w)
    shifted_c = c * torch.cos(k * w) - s * torch.sin(k * w)
    torch.testing.assert_close(pe[k:, 0::2], shifted_s, atol=1e-6, rtol=0)
    torch.testing.assert_close(pe[k:, 1::2], shifted_c, atol=1e-6, rtol=0)


# files written in another convention: each verdict names it
NEAR_MISSES = {"concatenated": BUGS["concatenated-sin-then-cos"]}


@pytest.mark.parametrize("variant", NEAR_MISSES)
def test_near_misses_are_named(grade_source, variant):
    assert_near_miss(grade_source(PROBLEM, NEAR_MISSES[variant]), PROBLEM, variant)
