"""int8-quantization: the reference agrees with torch.quantize_per_tensor / quantize_per_channel,
correct variants pass, realistic bugs fail."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from drillcli.graders.int8_quantization import run
from tests.support import assert_rejected, assert_within_half_tolerance, describe, mutate, reference, stored_cases

PROBLEM = "int8-quantization"

_DEQ = """
def dequantize_int8(q, scale):
    return q.to(scale.dtype) * scale
"""

CORRECT = {
    "multiply-by-inverse-scale": """
        import torch
        def quantize_int8(x, dim=None):
            if dim is None:
                absmax = x.abs().max()
            else:
                dims = tuple(d for d in range(x.dim()) if d != dim % x.dim())
                absmax = x.abs().amax(dim=dims, keepdim=True)
            absmax = torch.where(absmax == 0, torch.full_like(absmax, 127.0), absmax)
            q = (x * (127.0 / absmax)).round().clamp(-127, 127).to(torch.int8)
            return q, absmax / 127
        def dequantize_int8(q, scale):
            return scale * q
    """,
    "float64-intermediates": """
        import torch
        def quantize_int8(x, dim=None):
            xd = x.double()
            if dim is None:
                absmax = xd.abs().amax()
            else:
                absmax = xd.abs().amax(dim=[d for d in range(x.dim()) if d != dim % x.dim()], keepdim=True)
            scale = absmax / 127
            scale[absmax == 0] = 1.0
            q = torch.clamp(torch.round(xd / scale), -127, 127).to(torch.int8)
            return q, scale.to(x.dtype)
        def dequantize_int8(q, scale):
            return q.to(scale.dtype) * scale
    """,
    "channels-first-reshape": """
        import torch
        def quantize_int8(x, dim=None):
            if dim is None:
                flat = x.reshape(1, -1)
                shape = ()
            else:
                d = dim % x.dim()
                flat = x.movedim(d, 0).reshape(x.shape[d], -1)
                shape = [x.shape[d] if i == d else 1 for i in range(x.dim())]
            absmax = flat.abs().max(dim=1).values
            scale = torch.where(absmax > 0, absmax / 127, 1.0).reshape(shape)
            q = torch.round(x / scale).clamp(-127, 127).to(torch.int8)
            return q, scale
        def dequantize_int8(q, scale):
            return torch.mul(scale, q.double()).to(scale.dtype)
    """,
    "numpy-round-half-even": """
        import numpy as np
        import torch
        def quantize_int8(x, dim=None):
            a = x.detach().numpy()
            if dim is None:
                absmax = np.abs(a).max()
            else:
                axes = tuple(d for d in range(a.ndim) if d != dim % a.ndim)
                absmax = np.abs(a).max(axis=axes, keepdims=True)
            scale = np.where(absmax > 0, absmax / 127, 1.0).astype(a.dtype)
            q = np.clip(np.rint(a / scale), -127, 127).astype(np.int8)
            return torch.from_numpy(np.asarray(q)), torch.from_numpy(np.asarray(scale))
        def dequantize_int8(q, scale):
            return torch.from_numpy(np.asarray(q.numpy().astype(scale.numpy().dtype) * scale.numpy()))
    """,
}

_QHEAD = """
import torch
def _absmax(x, dim):
    if dim is None:
        return x.abs().amax()
    return x.abs().amax(dim=[d for d in range(x.dim()) if d != dim % x.dim()], keepdim=True)
"""

BUGS = {
    "divides-x-in-place": """
        import torch
        def quantize_int8(x, dim=None):
            dims = None if dim is None else [d for d in range(x.dim()) if d != dim % x.dim()]
            absmax = x.abs().amax() if dim is None else x.abs().amax(dim=dims, keepdim=True)
            scale = torch.where(absmax > 0, absmax / 127, torch.ones_like(absmax))
            x /= scale
            return x.round().clamp(-127, 127).to(torch.int8), scale
        def dequantize_int8(q, scale):
            return q * scale
    """,
    "divides-by-128": _QHEAD + """
def quantize_int8(x, dim=None):
    m = _absmax(x, dim)
    scale = torch.where(m > 0, m / 128, torch.ones_like(m))
    return torch.round(x / scale).clamp(-127, 127).to(torch.int8), scale
""" + _DEQ,
    "truncates-instead-of-rounding": _QHEAD + """
def quantize_int8(x, dim=None):
    m = _absmax(x, dim)
    scale = torch.where(m > 0, m / 127, torch.ones_like(m))
    return (x / scale).clamp(-127, 127).to(torch.int8), scale
""" + _DEQ,
    "rounds-half-away-from-zero": _QHEAD + """
def quantize_int8(x, dim=None):
    m = _absmax(x, dim)
    scale = torch.where(m > 0, m / 127, torch.ones_like(m))
    t = x / scale
    return (torch.sign(t) * torch.floor(t.abs() + 0.5)).clamp(-127, 127).to(torch.int8), scale
""" + _DEQ,
    "reduces-over-the-channel-axis": """
import torch
def quantize_int8(x, dim=None):
    m = x.abs().amax() if dim is None else x.abs().amax(dim=dim, keepdim=True)
    scale = torch.where(m > 0, m / 127, torch.ones_like(m))
    return torch.round(x / scale).clamp(-127, 127).to(torch.int8), scale
""" + _DEQ,
    "max-without-abs": """
import torch
def quantize_int8(x, dim=None):
    if dim is None:
        m = x.amax()
    else:
        m = x.amax(dim=[d for d in range(x.dim()) if d != dim % x.dim()], keepdim=True)
    scale = torch.where(m > 0, m / 127, torch.ones_like(m))
    return torch.round(x / scale).clamp(-127, 127).to(torch.int8), scale
""" + _DEQ,
    "zero-channel-not-guarded": _QHEAD + """
def quantize_int8(x, dim=None):
    scale = _absmax(x, dim) / 127
    return torch.nan_to_num(torch.round(x / scale)).clamp(-127, 127).to(torch.int8), scale
""" + _DEQ,
    "dequantize-always-float32": _QHEAD + """
def quantize_int8(x, dim=None):
    m = _absmax(x, dim)
    scale = torch.where(m > 0, m / 127, torch.ones_like(m))
    return torch.round(x / scale).clamp(-127, 127).to(torch.int8), scale
def dequantize_int8(q, scale):
    return q.float() * scale.float()
""",
    "clamps-to-minus-128": """
import torch
def quantize_int8(x, dim=None):
    if dim is None:
        lo, hi = x.amin(), x.amax()
    else:
        dims = [d for d in range(x.dim()) if d != dim % x.dim()]
        lo, hi = x.amin(dim=dims, keepdim=True), x.amax(dim=dims, keepdim=True)
    m = torch.maximum(hi, -lo)
    scale = torch.where(m > 0, m / 127, torch.ones_like(m))
    q = torch.where(x < 0, torch.round(x / scale * 128 / 127), torch.round(x / scale))
    return q.clamp(-128, 127).to(torch.int8), scale
""" + _DEQ,
    # dim = 0 is a channel axis, not "no dim": `if not dim` quantizes per tensor there
    "dim-zero-taken-as-per-tensor": mutate(CORRECT["multiply-by-inverse-scale"], ("if dim is None:", "if not dim:")),
}


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass_within_half_tolerance(grade_source, name):
    assert_within_half_tolerance(grade_source(PROBLEM, CORRECT[name]))


@pytest.mark.parametrize("name", BUGS)
def test_bugs_fail(grade_source, name):
    verdict = grade_source(PROBLEM, BUGS[name])
    assert verdict.status == ("modified_input" if name == "divides-x-in-place" else "failed"), describe(verdict)
    assert_rejected(verdict)


def test_missing_dequantize_is_reported(grade_source):
    verdict = grade_source(PROBLEM, _QHEAD + """
def quantize_int8(x, dim=None):
    m = _absmax(x, dim)
    scale = torch.where(m > 0, m / 127, torch.ones_like(m))
    return torch.round(x / scale).clamp(-127, 127).to(torch.int8), scale
""")
    assert verdict.status == "wrong_return" and "dequantize_int8" in verdict.first_failure().message


def test_reference_matches_torch_quantize_on_every_case():
    for case in stored_cases(PROBLEM):
        x = torch.from_numpy(case.inputs["x"])
        dim = case.inputs.get("dim")
        ours = run(reference(PROBLEM), "function", case, ["q", "scale", "x_hat"])
        # torch's quantizers take float32 input; our random values sit >= 2e-3 away from rounding ties
        xf = x.float()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if dim is None:
                lib = torch.quantize_per_tensor(xf, float(ours["scale"]), 0, torch.qint8)
            else:
                d = dim % x.dim()
                lib = torch.quantize_per_channel(xf, ours["scale"].reshape(-1).double(),
                                                 torch.zeros(x.shape[d], dtype=torch.long), d, torch.qint8)
        assert torch.equal(ours["q"], lib.int_repr()), case.name
        torch.testing.assert_close(ours["x_hat"].float(), lib.dequantize(), msg=case.name)
        assert ours["q"].dtype == torch.int8 and int(ours["q"].abs().max()) <= 127, case.name
        assert np.array_equal(case.outputs["q"], ours["q"].numpy()), case.name
