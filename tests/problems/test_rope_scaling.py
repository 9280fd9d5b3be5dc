"""rope-scaling: the reference equals transformers' RoPE initialisation functions on every case,
correct variants pass, realistic bugs fail, other conventions are named."""

from __future__ import annotations

import logging

import pytest
import torch

from drillcli.harness import build_inputs
from tests.support import (assert_near_miss, assert_rejected, assert_within_half_tolerance, describe, mutate,
                           reference, stored_cases)

PROBLEM = "rope-scaling"

# Written the way transformers' modeling_rope_utils is organised (helper functions, the
# extrapolation factor = 1 - ramp), but in the requested dtype. The bugs below are mutations of it.
HF_STYLE = """
    import math, torch

    def find_correction_dim(num_rotations, dim, base, max_pos):
        return (dim * math.log(max_pos / (num_rotations * 2 * math.pi))) / (2 * math.log(base))

    def find_correction_range(low_rot, high_rot, dim, base, max_pos, truncate):
        low = find_correction_dim(low_rot, dim, base, max_pos)
        high = find_correction_dim(high_rot, dim, base, max_pos)
        if truncate:
            low = math.floor(low)
            high = math.ceil(high)
        return max(low, 0), min(high, dim - 1)

    def linear_ramp_factor(lo, hi, n, dtype):
        return torch.clamp((torch.arange(n, dtype=dtype) - lo) / (hi - lo), 0, 1)

    def rope_inv_freq(dim, base=10000.0, method="default", factor=1.0, max_position_embeddings=2048,
                      seq_len=None, beta_fast=32.0, beta_slow=1.0, truncate=True, dtype=torch.float32):
        attention_factor = 1.0
        if method == "dynamic":
            if seq_len is None:
                seq_len = max_position_embeddings
            else:
                seq_len = max(seq_len, max_position_embeddings)
            base = base * ((factor * seq_len / max_position_embeddings) - (factor - 1)) ** (dim / (dim - 2))
        pos_freqs = base ** (torch.arange(0, dim, 2, dtype=torch.int64).to(dtype) / dim)
        inv_freq = 1.0 / pos_freqs
        if method == "linear":
            inv_freq = inv_freq / factor
        elif method == "yarn":
            attention_factor = 1.0 if factor <= 1 else 0.1 * math.log(factor) + 1.0
            inv_freq_extrapolation = 1.0 / pos_freqs
            inv_freq_interpolation = 1.0 / (factor * pos_freqs)
            low, high = find_correction_range(beta_fast, beta_slow, dim, base, max_position_embeddings, truncate)
            extrapolation_factor = 1 - linear_ramp_factor(low, high, dim // 2, dtype)
            inv_freq = (inv_freq_interpolation * (1 - extrapolation_factor)
                        + inv_freq_extrapolation * extrapolation_factor)
        return inv_freq, attention_factor
"""

CORRECT = {
    "hf-style-in-requested-dtype": HF_STYLE,
    "python-loops-math": """
        import math, torch
        def rope_inv_freq(dim, base=10000.0, method="default", factor=1.0, max_position_embeddings=2048,
                          seq_len=None, beta_fast=32.0, beta_slow=1.0, truncate=True, dtype=torch.float32):
            L = max_position_embeddings
            if method == "dynamic":
                s = L if seq_len is None else max(seq_len, L)
                base *= math.pow(factor * s / L - factor + 1, dim / (dim - 2))
            plain = [math.pow(base, -2 * i / dim) for i in range(dim // 2)]
            scaling = 1.0
            if method == "linear":
                vals = [p / factor for p in plain]
            elif method == "yarn":
                corr = lambda r: dim * math.log(L / (r * 2 * math.pi)) / (2 * math.log(base))
                lo, hi = corr(beta_fast), corr(beta_slow)
                if truncate:
                    lo, hi = math.floor(lo), math.ceil(hi)
                lo, hi = max(lo, 0), min(hi, dim - 1)
                vals = []
                for i, p in enumerate(plain):
                    r = min(max((i - lo) / (hi - lo), 0.0), 1.0)
                    vals.append(p * (1 - r) + p / factor * r)
                if factor > 1:
                    scaling = 1 + 0.1 * math.log(factor)
            else:
                vals = plain
            return torch.tensor(vals, dtype=dtype), scaling
    """,
    "numpy-exp-log-space": """
        import math
        import numpy as np
        import torch
        def rope_inv_freq(dim, base=10000.0, method="default", factor=1.0, max_position_embeddings=2048,
                          seq_len=None, beta_fast=32.0, beta_slow=1.0, truncate=True, dtype=torch.float32):
            log_base = math.log(base)
            if method == "dynamic":
                s = max_position_embeddings if seq_len is None else max(seq_len, max_position_embeddings)
                log_base += dim / (dim - 2) * math.log(factor * s / max_position_embeddings - (factor - 1))
            i = np.arange(dim // 2, dtype=np.float64)
            log_inv = -2.0 * i / dim * log_base
            if method == "linear":
                log_inv = log_inv - math.log(factor)
            inv = np.exp(log_inv)
            scale = 1.0
            if method == "yarn":
                k = dim / (2 * log_base)
                low = k * math.log(max_position_embeddings / (2 * math.pi * beta_fast))
                high = k * math.log(max_position_embeddings / (2 * math.pi * beta_slow))
                if truncate:
                    low, high = float(np.floor(low)), float(np.ceil(high))
                low, high = max(low, 0.0), min(high, dim - 1.0)
                ramp = np.clip((i - low) / (high - low), 0.0, 1.0)
                inv = inv * (1.0 - ramp * (1.0 - 1.0 / factor))
                scale = 0.1 * math.log(factor) + 1.0
            return torch.from_numpy(inv).to(dtype), scale
    """,
    "lerp-and-where-float64": """
        import math, torch
        def rope_inv_freq(dim, base=10000.0, method="default", factor=1.0, max_position_embeddings=2048,
                          seq_len=None, beta_fast=32.0, beta_slow=1.0, truncate=True, dtype=torch.float32):
            f64 = torch.float64
            half = torch.arange(dim // 2, dtype=f64)
            b = torch.tensor(float(base), dtype=f64)
            if method == "dynamic" and seq_len is not None and seq_len > max_position_embeddings:
                b = b * (factor * seq_len / max_position_embeddings - (factor - 1)) ** (dim / (dim - 2))
            plain = torch.pow(b, -2.0 * half / dim)
            if method == "linear":
                return (plain / factor).to(dtype), 1.0
            if method != "yarn":
                return plain.to(dtype), 1.0
            turns = max_position_embeddings / (2 * math.pi)
            low = dim * math.log(turns / beta_fast) / (2 * math.log(base))
            high = dim * math.log(turns / beta_slow) / (2 * math.log(base))
            if truncate:
                low, high = math.floor(low), math.ceil(high)
            low, high = max(low, 0), min(high, dim - 1)
            ramp = torch.where(half < low, 0.0, torch.where(half > high, 1.0, (half - low) / (high - low)))
            inv = torch.lerp(plain, plain / factor, ramp.to(f64))
            return inv.to(dtype), (0.1 * math.log(factor) + 1.0 if factor > 1 else 1.0)
    """,
}


def _bug(*pairs: tuple[str, str]) -> str:
    return mutate(HF_STYLE, *pairs)


BUGS = {
    "dynamic-without-max-seq-len": _bug(("seq_len = max(seq_len, max_position_embeddings)", "pass")),
    "dynamic-without-exponent": _bug((" ** (dim / (dim - 2))", "")),
    "dynamic-exponent-inverted": _bug(("** (dim / (dim - 2))", "** ((dim - 2) / dim)")),
    "dynamic-factor-1-shortcut": _bug(('if method == "dynamic":', 'if method == "dynamic" and factor != 1:')),
    "dynamic-ignores-seq-len": _bug(("seq_len = max(seq_len, max_position_embeddings)",
                                     "seq_len = max_position_embeddings")),
    "linear-multiplies": _bug(("inv_freq = inv_freq / factor", "inv_freq = inv_freq * factor")),
    "yarn-ramp-reversed": _bug(("extrapolation_factor = 1 - linear_ramp_factor", "extrapolation_factor = linear_ramp_factor")),
    "yarn-clamp-at-half-dim": _bug(("min(high, dim - 1)", "min(high, dim // 2 - 1)")),
    "yarn-betas-swapped": _bug(("find_correction_range(beta_fast, beta_slow,", "find_correction_range(beta_slow, beta_fast,")),
    "yarn-correction-without-2pi": _bug(("(num_rotations * 2 * math.pi)", "num_rotations")),
    "yarn-no-attention-scaling": _bug(("1.0 if factor <= 1 else 0.1 * math.log(factor) + 1.0", "1.0")),
    "yarn-scaling-log10": _bug(("0.1 * math.log(factor) + 1.0", "0.1 * math.log10(factor) + 1.0")),
    "scaling-for-every-method": _bug(("attention_factor = 1.0\n", "attention_factor = 0.1 * math.log(factor) + 1.0\n"),
                                     ("1.0 if factor <= 1 else 0.1 * math.log(factor) + 1.0", "attention_factor")),
    "exponent-i-over-dim": _bug(("torch.arange(0, dim, 2, dtype=torch.int64)", "torch.arange(dim // 2, dtype=torch.int64)")),
    "float32-for-float64": _bug(("torch.arange(0, dim, 2, dtype=torch.int64).to(dtype)",
                                 "torch.arange(0, dim, 2, dtype=torch.int64).float()"),
                                ("linear_ramp_factor(low, high, dim // 2, dtype)",
                                 "linear_ramp_factor(low, high, dim // 2, torch.float32)"),
                                ("return inv_freq, attention_factor", "return inv_freq.to(dtype), attention_factor")),
    "untruncated-range-floor-only": _bug(("high = math.ceil(high)", "high = math.floor(high)")),
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


def test_scaling_returned_as_tensor_is_a_type_error(grade_source):
    verdict = grade_source(PROBLEM, _bug(("return inv_freq, attention_factor",
                                          "return inv_freq, torch.tensor(attention_factor)")))
    assert verdict.status == "failed", describe(verdict)
    assert verdict.first_failure().kind == "type"
    assert "Python number" in verdict.first_failure().message


def test_float64_output_for_float32_case_fails_on_dtype(grade_source):
    verdict = grade_source(PROBLEM, _bug(("return inv_freq, attention_factor",
                                          "return inv_freq.double(), attention_factor")))
    assert verdict.first_failure().kind == "dtype"


# files written in another convention: each verdict names it
NEAR_MISSES = {
    "static-ntk": _bug(("""            if seq_len is None:
                seq_len = max_position_embeddings
            else:
                seq_len = max(seq_len, max_position_embeddings)
            base = base * ((factor * seq_len / max_position_embeddings) - (factor - 1)) ** (dim / (dim - 2))""",
                        "            base = base * factor ** (dim / (dim - 2))")),
    "yarn-untruncated": _bug(("        if truncate:\n", "        if False:\n")),
    "yarn-scaling-squared": _bug(("0.1 * math.log(factor) + 1.0", "(0.1 * math.log(factor) + 1.0) ** 2")),
}


@pytest.mark.parametrize("variant", NEAR_MISSES)
def test_near_misses_are_named(grade_source, variant):
    assert_near_miss(grade_source(PROBLEM, NEAR_MISSES[variant]), PROBLEM, variant)


def _transformers(dim, base, method, factor, max_pos, seq_len, beta_fast, beta_slow, truncate):
    """transformers' own initialisation function for this rope type, on a minimal LlamaConfig."""
    from transformers import LlamaConfig
    from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS
    from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding

    params = {"rope_type": method, "rope_theta": base}
    if method != "default":
        params["factor"] = factor
    if method == "yarn":
        params |= {"beta_fast": beta_fast, "beta_slow": beta_slow, "truncate": truncate,
                   "original_max_position_embeddings": max_pos}
    config = LlamaConfig(hidden_size=dim, num_attention_heads=1, head_dim=dim, max_position_embeddings=max_pos,
                         rope_parameters=params)
    if method == "default":
        return LlamaRotaryEmbedding.compute_default_rope_parameters(config)
    return ROPE_INIT_FUNCTIONS[method](config, None, seq_len=seq_len)


def test_reference_matches_transformers_on_every_case():
    pytest.importorskip("transformers")
    logging.getLogger("transformers").setLevel(logging.ERROR)
    methods = set()
    for case in stored_cases(PROBLEM):
        args, _, _ = build_inputs(case)
        *params, dtype = args
        ours, scaling = reference(PROBLEM)(*params, torch.float64)
        theirs, their_scaling = _transformers(*params)
        # transformers computes in float32: agreement to float32 rounding
        torch.testing.assert_close(ours, theirs.double(), rtol=2e-6, atol=0.0, msg=case.name)
        assert scaling == pytest.approx(their_scaling, rel=1e-14), case.name
        assert type(scaling) is float
        stored = reference(PROBLEM)(*params, getattr(torch, dtype))[0]
        assert stored.dtype == getattr(torch, dtype) and stored.shape == (params[0] // 2,)
        methods.add(params[2])
    assert methods == {"default", "linear", "dynamic", "yarn"}


def test_factor_one_is_plain_rope_except_dynamic_beyond_the_context():
    f = reference(PROBLEM)
    plain, _ = f(64, 10000.0, "default", dtype=torch.float64)
    for method in ("linear", "dynamic", "yarn"):
        inv, scaling = f(64, 10000.0, method, 1.0, 2048, 1000, dtype=torch.float64)
        torch.testing.assert_close(inv, plain, rtol=1e-15, atol=0.0)
        assert scaling == 1.0
    above, _ = f(64, 10000.0, "dynamic", 1.0, 2048, 4096, dtype=torch.float64)
    assert (above[1:] < plain[1:]).all()
