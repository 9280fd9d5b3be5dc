"""softmax: the reference agrees with scipy.special and torch, correct variants pass, realistic bugs fail."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special
import torch

from drillcli.graders.softmax import run
from drillcli.solutions import softmax as ref
from tests.support import (assert_near_miss, assert_rejected, assert_within_half_tolerance, describe, mutate,
                           stored_cases)

PROBLEM = "softmax"

CORRECT = {
    "logsumexp-first": """
        import numpy as np
        def _lse(x, axis):
            m = np.max(x, axis=axis, keepdims=True)
            return m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))
        def softmax(x, axis=-1):
            return np.exp(x - _lse(x, axis))
        def log_softmax(x, axis=-1):
            return x - _lse(x, axis)
    """,
    "float64-intermediates": """
        import numpy as np
        def softmax(x, axis=-1):
            z = x.astype(np.float64)
            z = z - z.max(axis=axis, keepdims=True)
            e = np.exp(z)
            return (e / e.sum(axis=axis, keepdims=True)).astype(x.dtype)
        def log_softmax(x, axis=-1):
            z = x.astype(np.float64)
            z = z - z.max(axis=axis, keepdims=True)
            return (z - np.log(np.exp(z).sum(axis=axis, keepdims=True))).astype(x.dtype)
    """,
    "moveaxis-and-python-loop": """
        import math
        import numpy as np
        def _rows(x, axis):
            return np.moveaxis(x, axis, -1).reshape(-1, x.shape[axis])
        def _back(rows, x, axis):
            moved = np.moveaxis(np.empty_like(x), axis, -1).shape
            return np.moveaxis(rows.reshape(moved), -1, axis)
        def log_softmax(x, axis=-1):
            rows = _rows(x, axis)
            out = np.empty_like(rows)
            for r in range(rows.shape[0]):
                m = max(float(v) for v in rows[r])
                lse = m + math.log(sum(math.exp(float(v) - m) for v in rows[r]))
                out[r] = [float(v) - lse for v in rows[r]]
            return _back(out, x, axis)
        def softmax(x, axis=-1):
            return np.exp(log_softmax(x, axis))
    """,
    "apply-along-axis-divide-by-sum": """
        import numpy as np
        def _sm(v):
            e = np.exp(v - v.max())
            return e * (1 / e.sum())
        def _lsm(v):
            z = v - v.max()
            return z - np.log(np.exp(z).sum())
        def softmax(x, axis=-1):
            if x.size == 0:
                return x.copy()
            return np.apply_along_axis(_sm, axis, x).astype(x.dtype)
        def log_softmax(x, axis=-1):
            if x.size == 0:
                return x.copy()
            return np.apply_along_axis(_lsm, axis, x).astype(x.dtype)
    """,
}

BUGS = {
    "no-max-shift": """
        import numpy as np
        def softmax(x, axis=-1):
            e = np.exp(x)
            return e / e.sum(axis=axis, keepdims=True)
        def log_softmax(x, axis=-1):
            return x - np.log(np.exp(x).sum(axis=axis, keepdims=True))
    """,
    "one-global-max": """
        import numpy as np
        def softmax(x, axis=-1):
            e = np.exp(x - x.max()) if x.size else x
            return e / e.sum(axis=axis, keepdims=True)
        def log_softmax(x, axis=-1):
            z = x - x.max() if x.size else x
            return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))
    """,
    "log-of-softmax": """
        import numpy as np
        def softmax(x, axis=-1):
            e = np.exp(x - x.max(axis=axis, keepdims=True))
            return e / e.sum(axis=axis, keepdims=True)
        def log_softmax(x, axis=-1):
            return np.log(softmax(x, axis))
    """,
    "ignores-axis": """
        import numpy as np
        def softmax(x, axis=-1):
            e = np.exp(x - x.max(axis=-1, keepdims=True))
            return e / e.sum(axis=-1, keepdims=True)
        def log_softmax(x, axis=-1):
            z = x - x.max(axis=-1, keepdims=True)
            return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    """,
    "whole-array-at-once": """
        import numpy as np
        def softmax(x, axis=-1):
            e = np.exp(x - x.max()) if x.size else x
            return e / e.sum()
        def log_softmax(x, axis=-1):
            z = x - x.max() if x.size else x
            return z - np.log(np.exp(z).sum())
    """,
    "modifies-x-in-place": """
        import numpy as np
        def softmax(x, axis=-1):
            x -= x.max(axis=axis, keepdims=True)
            np.exp(x, out=x)
            x /= x.sum(axis=axis, keepdims=True)
            return x
        def log_softmax(x, axis=-1):
            x -= x.max(axis=axis, keepdims=True)
            x -= np.log(np.exp(x).sum(axis=axis, keepdims=True))
            return x
    """,
    "log-softmax-forgets-the-shift": """
        import numpy as np
        def softmax(x, axis=-1):
            e = np.exp(x - x.max(axis=axis, keepdims=True))
            return e / e.sum(axis=axis, keepdims=True)
        def log_softmax(x, axis=-1):
            m = x.max(axis=axis, keepdims=True)
            return x - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))
    """,
    "upcasts-to-float64": """
        import numpy as np
        def softmax(x, axis=-1):
            z = np.asarray(x, dtype=np.float64)
            e = np.exp(z - z.max(axis=axis, keepdims=True))
            return e / e.sum(axis=axis, keepdims=True)
        def log_softmax(x, axis=-1):
            z = np.asarray(x, dtype=np.float64)
            z = z - z.max(axis=axis, keepdims=True)
            return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))
    """,
}
# axis = 0 is an axis, not "not given": `axis or -1` normalises the rows instead of the columns
BUGS["axis-zero-taken-as-default"] = mutate(CORRECT["logsumexp-first"], ("def _lse(x, axis):", "def _lse(x, axis):\n            axis = axis or -1"))

NEAR_MISSES = {
    "last-axis": [BUGS["ignores-axis"], BUGS["axis-zero-taken-as-default"]],
    "whole-array": [BUGS["whole-array-at-once"]],
}


@pytest.mark.parametrize("variant", NEAR_MISSES)
def test_near_misses_are_named(grade_source, variant):
    for source in NEAR_MISSES[variant]:
        assert_near_miss(grade_source(PROBLEM, source), PROBLEM, variant)

# A structural bug: on non-square inputs the missing keepdims raises, on square ones it is silently wrong.
NO_KEEPDIMS = """
    import numpy as np
    def softmax(x, axis=-1):
        e = np.exp(x - x.max(axis=axis))
        return e / e.sum(axis=axis)
    def log_softmax(x, axis=-1):
        z = x - x.max(axis=axis)
        return z - np.log(np.exp(z).sum(axis=axis))
"""


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass_within_half_tolerance(grade_source, name):
    assert_within_half_tolerance(grade_source(PROBLEM, CORRECT[name]))


@pytest.mark.parametrize("name", BUGS)
def test_bugs_fail(grade_source, name):
    verdict = grade_source(PROBLEM, BUGS[name])
    assert verdict.status == ("modified_input" if name == "modifies-x-in-place" else "failed"), describe(verdict)
    assert_rejected(verdict)


def test_missing_keepdims_fails_with_wrong_values_on_square_inputs(grade_source):
    verdict = grade_source(PROBLEM, NO_KEEPDIMS)
    assert not verdict.ok
    square = {c.name: c for c in verdict.cases}["square-last-axis"]
    assert square.status == "fail" and square.kind == "value", describe(verdict)


def test_missing_log_softmax_is_reported(grade_source):
    verdict = grade_source(PROBLEM, """
        import numpy as np
        def softmax(x, axis=-1):
            e = np.exp(x - x.max(axis=axis, keepdims=True))
            return e / e.sum(axis=axis, keepdims=True)
    """)
    assert verdict.status == "wrong_return" and "log_softmax" in verdict.first_failure().message


def test_reference_matches_scipy_and_torch_on_every_case():
    for case in stored_cases(PROBLEM):
        x = case.inputs["x"]
        axis = case.inputs.get("axis", -1)
        got = run(ref.softmax, "function", case, list(case.outputs))
        assert got["probs"].dtype == x.dtype and got["log_probs"].dtype == x.dtype, case.name
        tol = dict(rtol=1e-5, atol=2e-5) if x.dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)
        with np.errstate(all="ignore"):
            np.testing.assert_allclose(got["probs"], scipy.special.softmax(x, axis=axis), err_msg=case.name, **tol)
            np.testing.assert_allclose(got["log_probs"], scipy.special.log_softmax(x, axis=axis), err_msg=case.name, **tol)
        t = torch.from_numpy(np.ascontiguousarray(x))
        np.testing.assert_allclose(got["probs"], torch.softmax(t, dim=axis).numpy(), err_msg=case.name, **tol)
        np.testing.assert_allclose(got["log_probs"], torch.log_softmax(t, dim=axis).numpy(), err_msg=case.name, **tol)
