"""alibi: the reference agrees with the official slope code and with BLOOM's, the bias with
the paper's definition; correct variants pass, realistic bugs fail."""

from __future__ import annotations

import math

import pytest
import torch

from tests.support import (assert_near_miss, assert_rejected, assert_within_half_tolerance, describe,
                           reference, stored_cases)

PROBLEM = "alibi"

CORRECT = {
    "official-recursive-get-slopes": """
        import math, torch
        def get_slopes(n):
            def get_slopes_power_of_2(n):
                start = 2 ** (-2 ** -(math.log2(n) - 3))
                ratio = start
                return [start * ratio ** i for i in range(n)]
            if math.log2(n).is_integer():
                return get_slopes_power_of_2(n)
            closest = 2 ** math.floor(math.log2(n))
            return get_slopes_power_of_2(closest) + get_slopes(2 * closest)[0::2][: n - closest]
        def alibi_bias(num_heads, q_len, k_len=None):
            k_len = k_len or q_len
            m = torch.tensor(get_slopes(num_heads))
            ctx = torch.arange(q_len)[:, None] + (k_len - q_len)
            mem = torch.arange(k_len)[None, :]
            return m, m[:, None, None] * (mem - ctx)
    """,
    "bloom-style-torch-pow": """
        import math, torch
        def alibi_bias(num_heads, q_len, k_len=None):
            k_len = q_len if k_len is None else k_len
            p = 2 ** math.floor(math.log2(num_heads))
            base = torch.tensor(2 ** (-(2 ** -(math.log2(p) - 3))), dtype=torch.float32)
            slopes = torch.pow(base, torch.arange(1, 1 + p, dtype=torch.int32))
            if p != num_heads:
                extra_base = torch.tensor(2 ** (-(2 ** -(math.log2(2 * p) - 3))), dtype=torch.float32)
                extra = torch.arange(1, 1 + 2 * (num_heads - p), 2, dtype=torch.int32)
                slopes = torch.cat([slopes, torch.pow(extra_base, extra)])
            rel = (torch.arange(k_len) - (k_len - q_len))[None, :] - torch.arange(q_len)[:, None]
            return slopes, slopes.view(-1, 1, 1) * rel.float()
    """,
    "python-loops-float64": """
        import torch
        def alibi_bias(num_heads, q_len, k_len=None):
            if k_len is None:
                k_len = q_len
            p = 1
            while p * 2 <= num_heads:
                p *= 2
            slopes = [2.0 ** (-8.0 * (h + 1) / p) for h in range(p)]
            h = 0
            while len(slopes) < num_heads:
                slopes.append(2.0 ** (-8.0 * (h + 1) / (2 * p)))
                h += 2
            off = k_len - q_len
            bias = [[[s * (j - i - off) for j in range(k_len)] for i in range(q_len)] for s in slopes]
            return torch.tensor(slopes, dtype=torch.float32), torch.tensor(bias, dtype=torch.float64).float()
    """,
    "exponents-vectorised": """
        import math, torch
        def alibi_bias(num_heads, q_len, k_len=None):
            k_len = k_len if k_len is not None else q_len
            p = 1 << (num_heads.bit_length() - 1)
            exps = torch.cat([8.0 * torch.arange(1, p + 1) / p, 8.0 * torch.arange(1, 2 * p + 1, 2)[: num_heads - p] / (2 * p)])
            slopes = torch.exp2(-exps.double())
            i = torch.arange(k_len - q_len, k_len).double()
            j = torch.arange(k_len).double()
            bias = torch.einsum("h,qk->hqk", slopes, j[None, :] - i[:, None])
            return slopes.float(), bias.float()
    """,
}

_BIAS = """
            k_len = q_len if k_len is None else k_len
            s = torch.tensor(slopes, dtype=torch.float32)
            rel = torch.arange(k_len)[None, :] - torch.arange(k_len - q_len, k_len)[:, None]
            return s, s[:, None, None] * rel
"""

BUGS = {
    "power-of-two-formula-for-every-head-count": """
        import torch
        def alibi_bias(num_heads, q_len, k_len=None):
            slopes = [2 ** (-8 * (h + 1) / num_heads) for h in range(num_heads)]""" + _BIAS,
    "slopes-reversed": """
        import math, torch
        def pow2(n):
            return [2 ** (-8 * (h + 1) / n) for h in range(n)]
        def alibi_bias(num_heads, q_len, k_len=None):
            p = 2 ** math.floor(math.log2(num_heads))
            slopes = (pow2(p) + pow2(2 * p)[0::2][: num_heads - p])[::-1]""" + _BIAS,
    "extra-slopes-odd-indices": """
        import math, torch
        def pow2(n):
            return [2 ** (-8 * (h + 1) / n) for h in range(n)]
        def alibi_bias(num_heads, q_len, k_len=None):
            p = 2 ** math.floor(math.log2(num_heads))
            slopes = pow2(p) + pow2(2 * p)[1::2][: num_heads - p]""" + _BIAS,
    "extra-slopes-without-step": """
        import math, torch
        def pow2(n):
            return [2 ** (-8 * (h + 1) / n) for h in range(n)]
        def alibi_bias(num_heads, q_len, k_len=None):
            p = 2 ** math.floor(math.log2(num_heads))
            slopes = pow2(p) + pow2(2 * p)[: num_heads - p]""" + _BIAS,
    "first-slope-is-one": """
        import math, torch
        def pow2(n):
            return [2 ** (-8 * h / n) for h in range(n)]
        def alibi_bias(num_heads, q_len, k_len=None):
            p = 2 ** math.floor(math.log2(num_heads))
            slopes = pow2(p) + pow2(2 * p)[0::2][: num_heads - p]""" + _BIAS,
    "sign-flipped": """
        import math, torch
        def pow2(n):
            return [2 ** (-8 * (h + 1) / n) for h in range(n)]
        def alibi_bias(num_heads, q_len, k_len=None):
            k_len = q_len if k_len is None else k_len
            p = 2 ** math.floor(math.log2(num_heads))
            s = torch.tensor(pow2(p) + pow2(2 * p)[0::2][: num_heads - p])
            rel = torch.arange(k_len - q_len, k_len)[:, None] - torch.arange(k_len)[None, :]
            return s, s[:, None, None] * rel
    """,
    "queries-not-offset-when-decoding": """
        import math, torch
        def pow2(n):
            return [2 ** (-8 * (h + 1) / n) for h in range(n)]
        def alibi_bias(num_heads, q_len, k_len=None):
            k_len = q_len if k_len is None else k_len
            p = 2 ** math.floor(math.log2(num_heads))
            s = torch.tensor(pow2(p) + pow2(2 * p)[0::2][: num_heads - p])
            rel = torch.arange(k_len)[None, :] - torch.arange(q_len)[:, None]
            return s, s[:, None, None] * rel
    """,
    "absolute-distance": """
        import math, torch
        def pow2(n):
            return [2 ** (-8 * (h + 1) / n) for h in range(n)]
        def alibi_bias(num_heads, q_len, k_len=None):
            k_len = q_len if k_len is None else k_len
            p = 2 ** math.floor(math.log2(num_heads))
            s = torch.tensor(pow2(p) + pow2(2 * p)[0::2][: num_heads - p])
            rel = torch.arange(k_len)[None, :] - torch.arange(k_len - q_len, k_len)[:, None]
            return s, -s[:, None, None] * rel.abs()
    """,
    "bloom-key-position-only": """
        import math, torch
        def pow2(n):
            return [2 ** (-8 * (h + 1) / n) for h in range(n)]
        def alibi_bias(num_heads, q_len, k_len=None):
            k_len = q_len if k_len is None else k_len
            p = 2 ** math.floor(math.log2(num_heads))
            s = torch.tensor(pow2(p) + pow2(2 * p)[0::2][: num_heads - p])
            return s, s[:, None, None] * torch.arange(k_len).float().expand(q_len, k_len)
    """,
}


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass_within_half_tolerance(grade_source, name):
    verdict = grade_source(PROBLEM, CORRECT[name])
    assert_within_half_tolerance(verdict)


@pytest.mark.parametrize("name", BUGS)
def test_bugs_fail(grade_source, name):
    verdict = grade_source(PROBLEM, BUGS[name])
    assert verdict.status == "failed", describe(verdict)
    assert_rejected(verdict)


def official_get_slopes(n):
    """get_slopes from github.com/ofirpress/attention_with_linear_biases (fairseq/models/transformer.py)."""
    def get_slopes_power_of_2(n):
        start = 2 ** (-2 ** -(math.log2(n) - 3))
        ratio = start
        return [start * ratio ** i for i in range(n)]

    if math.log2(n).is_integer():
        return get_slopes_power_of_2(n)
    closest_power_of_2 = 2 ** math.floor(math.log2(n))
    return (get_slopes_power_of_2(closest_power_of_2)
            + official_get_slopes(2 * closest_power_of_2)[0::2][: n - closest_power_of_2])


def bloom_slopes(num_heads):
    """The slope part of Hugging Face's BLOOM build_alibi_tensor."""
    closest_power_of_2 = 2 ** math.floor(math.log2(num_heads))
    base = torch.tensor(2 ** (-(2 ** -(math.log2(closest_power_of_2) - 3))), dtype=torch.float32)
    slopes = torch.pow(base, torch.arange(1, 1 + closest_power_of_2, dtype=torch.int32))
    if closest_power_of_2 != num_heads:
        extra_base = torch.tensor(2 ** (-(2 ** -(math.log2(2 * closest_power_of_2) - 3))), dtype=torch.float32)
        num_remaining_heads = min(closest_power_of_2, num_heads - closest_power_of_2)
        extra_powers = torch.arange(1, 1 + 2 * num_remaining_heads, 2, dtype=torch.int32)
        slopes = torch.cat([slopes, torch.pow(extra_base, extra_powers)], dim=0)
    return slopes


def test_reference_matches_published_slopes_and_bias_on_every_case():
    for case in stored_cases(PROBLEM):
        n, q_len = case.inputs["num_heads"], case.inputs["q_len"]
        k_len = case.inputs.get("k_len", q_len)
        slopes, bias = reference(PROBLEM)(*[case.inputs[k] for k in ("num_heads", "q_len", "k_len") if k in case.inputs])
        assert slopes.dtype == bias.dtype == torch.float32 and bias.shape == (n, q_len, k_len), case.name
        torch.testing.assert_close(slopes, torch.tensor(official_get_slopes(n), dtype=torch.float32), msg=case.name)
        torch.testing.assert_close(slopes, bloom_slopes(n), msg=case.name)
        # the paper's bias, element by element: m_h * (j - position of query i)
        for h in range(n):
            for i in range(q_len):
                row = [official_get_slopes(n)[h] * (j - (i + k_len - q_len)) for j in range(k_len)]
                torch.testing.assert_close(bias[h, i], torch.tensor(row, dtype=torch.float32), msg=case.name)
        # under a causal mask the softmax equals BLOOM's key-position-only bias
        if q_len > 1:
            causal = torch.ones(q_len, k_len, dtype=torch.bool).tril(k_len - q_len)
            bloom = (bloom_slopes(n)[:, None, None] * torch.arange(k_len)).expand(n, q_len, k_len)
            a = bias.masked_fill(~causal, float("-inf")).softmax(-1)
            b = bloom.masked_fill(~causal, float("-inf")).softmax(-1)
            torch.testing.assert_close(a, b, msg=case.name)
        torch.testing.assert_close(torch.from_numpy(case.outputs["bias"]), bias, rtol=0, atol=0)


NEAR_MISSES = {
    "power-of-two-rule-for-every-head-count": BUGS["power-of-two-formula-for-every-head-count"],
    "sign-flipped": BUGS["sign-flipped"],
}


@pytest.mark.parametrize("variant", NEAR_MISSES)
def test_near_misses_are_named(grade_source, variant):
    assert_near_miss(grade_source(PROBLEM, NEAR_MISSES[variant]), PROBLEM, variant)
