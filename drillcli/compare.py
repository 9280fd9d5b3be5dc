"""Compare one case's outputs with the expected ones: structure first (type, shape,
dtype, NaN/inf), then values. Runs in the parent; numpy only.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Callable, Iterator

import numpy as np

from drillcli.fixtures import Case
from drillcli.spec import Spec
from drillcli.verdict import CaseResult

Check = Callable[[Case, dict[str, np.ndarray]], "str | None"]

TYPE_NAMES = {"tensor": "a torch.Tensor", "ndarray": "a numpy.ndarray", "list": "a list", "scalar": "a Python number"}


# Errors measured by every values_close call of the comparison in progress, custom checks
# included, so the case table shows them whichever path compared the values.
_MEASURED: ContextVar[list[tuple[float, float, float]] | None] = ContextVar("measured", default=None)


# The spec of the comparison in progress, so that a grader's `check` compares with the
# problem's own tolerance (`tolerance`) without loading its spec again for every case.
_SPEC: ContextVar[Spec | None] = ContextVar("spec", default=None)


def tolerance(dtype: str) -> tuple[float, float]:
    """(atol, rtol) of the problem being compared, for `dtype`; only inside a `check`."""
    spec = _SPEC.get()
    assert spec is not None, "compare.tolerance is only known while a case is compared (see `comparing`)"
    return spec.tol(dtype)


@contextmanager
def comparing(spec: Spec) -> Iterator[None]:
    """Within this block a grader's `check` compares as for `spec` (`tolerance`)."""
    token = _SPEC.set(spec)
    try:
        yield
    finally:
        _SPEC.reset(token)


def _measured(max_abs: float, max_rel: float, used: float) -> None:
    sink = _MEASURED.get()
    if sink is not None:
        sink.append((max_abs, max_rel, used))


class Mismatch(Exception):
    def __init__(self, kind: str, message: str, detail: str = ""):
        self.kind, self.message, self.detail = kind, message, detail
        super().__init__(message)


def _fmt_index(index: tuple[int, ...]) -> str:
    return "[" + ", ".join(map(str, index)) + "]"


def _pair(expected: float, got: float) -> str:
    """'expected X, got Y' with enough digits that X and Y read differently."""
    for digits in (6, 10, 17):
        a, b = f"{expected:.{digits}g}", f"{got:.{digits}g}"
        if a != b:
            break
    return f"expected {a}, got {b}"


def _structure(name: str, expected: np.ndarray, exp_type: dict[str, Any], got: np.ndarray | None,
               got_type: dict[str, Any]) -> None:
    want, have = exp_type.get("type"), got_type.get("type")
    same_family = {want, have} <= {"list", "tuple"} or want == have
    if got is None or not same_family:
        got_desc = got_type.get("note") or TYPE_NAMES.get(have, have)
        forgot = " (did you forget to return it?)" if have == "NoneType" else ""
        raise Mismatch("type", f"{name}: expected {TYPE_NAMES.get(want, want)}, got {got_desc}{forgot}")
    if got.shape != expected.shape:
        if want == "list" and got.ndim == expected.ndim == 1:
            raise Mismatch("shape", f"{name}: length {len(got)}, expected {len(expected)}")
        if expected.ndim == 0 and want == "tensor":
            raise Mismatch("shape", f"{name}: expected a 0-dim tensor, got shape {tuple(got.shape)}",
                           "return the scalar itself (e.g. loss.sum() or loss.squeeze()), not a 1-element tensor")
        raise Mismatch("shape", f"{name}: shape {tuple(got.shape)}, expected {tuple(expected.shape)}")
    if want in ("tensor", "ndarray") and exp_type.get("dtype") != got_type.get("dtype"):
        raise Mismatch("dtype", f"{name}: dtype {got_type.get('dtype')}, expected {exp_type.get('dtype')}")


def values_close(name: str, expected: np.ndarray, got: np.ndarray, atol: float, rtol: float) -> tuple[float, float]:
    """(max abs error, max rel error); raises Mismatch when outside tolerance. Public:
    graders' `check` hooks use it for the outputs they compare by value. Each call also
    records the share of the tolerance used (max of err / (atol + rtol |expected|))."""
    if expected.size == 0:
        return 0.0, 0.0
    if expected.dtype.kind in "biu" and got.dtype.kind in "biu":
        off = expected != got
        diff = np.abs(expected.astype(np.float64) - got.astype(np.float64))
        _measured(float(diff.max()), float((diff / np.maximum(np.abs(expected), 1)).max()), np.inf if off.any() else 0.0)
        if off.any():
            idx = tuple(int(i) for i in np.argwhere(off)[0])
            raise Mismatch("value", f"{name}: {int(off.sum())} of {off.size} values differ",
                           f"first at {_fmt_index(idx)}: expected {expected[idx]}, got {got[idx]}")
        return 0.0, 0.0
    exp, act = expected.astype(np.float64), got.astype(np.float64)
    bad_finite = ~np.isfinite(act) & np.isfinite(exp)
    if bad_finite.any():
        idx = tuple(int(i) for i in np.argwhere(bad_finite)[0])
        raise Mismatch("nan", f"{name}: {int(bad_finite.sum())} NaN/inf values where finite ones are expected",
                       f"first at {_fmt_index(idx)}: expected {exp[idx]:.6g}, got {act[idx]}")
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        err = np.where(np.isfinite(exp), np.abs(act - exp), np.where(act == exp, 0.0, np.inf))
        rel = np.where(np.abs(exp) > atol, err / np.abs(exp), 0.0)  # relative error means little near 0
        off = err > atol + rtol * np.abs(exp)
        bound = atol + rtol * np.abs(exp)
        used = float(np.where(err == 0, 0.0, np.where(bound > 0, err / bound, np.inf)).max())
    max_abs, max_rel = float(err.max()), float(rel.max())
    _measured(max_abs, max_rel, used)
    if off.any():
        first = tuple(int(i) for i in np.argwhere(off)[0])
        worst = np.unravel_index(int(np.argmax(np.where(off, err, -1.0))), err.shape)
        worst = tuple(int(i) for i in worst)
        share = off.mean()
        raise Mismatch(
            "value",
            f"{name}: {off.sum()} of {off.size} values ({share:.0%}) outside atol={atol:g}, rtol={rtol:g}",
            f"first mismatch at {_fmt_index(first)}: {_pair(exp[first], act[first])}\n"
            f"worst at {_fmt_index(worst)}: {_pair(exp[worst], act[worst])}\n"
            f"max abs error {max_abs:.3g}, max rel error {max_rel:.3g}",
        )
    return max_abs, max_rel


def describe_returned(got: dict[str, np.ndarray], got_types: dict[str, dict[str, Any]]) -> str:
    """What the user's code returned, output by output: 'out: tensor float32 (2, 4, 8)'."""
    parts = []
    for name, info in got_types.items():
        arr = got.get(name)
        dtype = f" {info['dtype']}" if info.get("dtype") and info.get("type") != "scalar" else ""
        shape = "" if arr is None or info.get("type") == "scalar" else f" {tuple(arr.shape)}"
        parts.append(f"{name}: {info.get('note') or info.get('type')}{dtype}{shape}")
    return ", ".join(parts)


def compare_case(spec: Spec, case: Case, got: dict[str, np.ndarray], got_types: dict[str, dict[str, Any]],
                 check: Check | None = None) -> CaseResult:
    measured: list[tuple[float, float, float]] = []
    token = _MEASURED.set(measured)
    try:
        with comparing(spec):
            result = _compare(spec, case, got, got_types, check)
    finally:
        _MEASURED.reset(token)
    result.note, result.returned = case.note, describe_returned(got, got_types)
    if measured:
        result.max_abs = max(m[0] for m in measured)
        result.max_rel = max(m[1] for m in measured)
        result.tol_used = max(m[2] for m in measured)
    return result


def _compare(spec: Spec, case: Case, got: dict[str, np.ndarray], got_types: dict[str, dict[str, Any]],
             check: Check | None) -> CaseResult:
    result = CaseResult(case.name, case.shapes(), "pass")
    try:
        for name, expected in case.outputs.items():
            _structure(name, expected, case.out_types.get(name, {}), got.get(name), got_types.get(name, {}))
        if check is not None:
            try:
                problem = check(case, got)
            except Exception as exc:  # noqa: BLE001 - the output is the user's; never crash the grade
                problem = f"{', '.join(got)}: could not be checked ({type(exc).__name__}: {exc})"
            if problem:
                raise Mismatch("value", problem.splitlines()[0], "\n".join(problem.splitlines()[1:]))
            return result
        for name, expected in case.outputs.items():
            values_close(name, expected, got[name], *spec.tol(str(expected.dtype)))
    except Mismatch as m:
        result.status, result.kind, result.message, result.detail = "fail", m.kind, m.message, m.detail
    return result


# A near miss is matched within this many times the problem's tolerance: a variant's outputs can be
# much worse conditioned than the reference's (BatchNorm in eval mode after Keras's momentum gives
# values in the thousands), so a float32 submission of it differs from the float64-built variant
# by more than the reference's tolerance allows.
NEAR_SLACK = 10.0


def near_miss(spec: Spec, cases: list[Case], results: list[CaseResult], got: dict[int, dict[str, np.ndarray]],
              near_misses: dict[str, tuple[str, Any]]) -> str:
    """The message of the first of the grader's NEAR_MISSES that explains every failing case:
    each failure is a wrong value, a NaN or a wrong shape (a longer list: LIS's non-decreasing
    variant), and on each the user's outputs match that variant's stored outputs, shape
    included, within NEAR_SLACK times the problem's tolerance. Empty when none does."""
    failing = [i for i, r in enumerate(results) if r.failed]
    if not failing or any(results[i].kind not in ("value", "nan", "shape") for i in failing):
        return ""
    for variant, (message, _) in near_misses.items():
        if all(_matches(spec, cases[i].near.get(variant, {}), got.get(i, {})) for i in failing):
            return message
    return ""


def _matches(spec: Spec, variant: dict[str, np.ndarray], got: dict[str, np.ndarray]) -> bool:
    if not variant:
        return False   # the variant gives the expected outputs here: it cannot explain a failure
    for name, expected in variant.items():
        have = got.get(name)
        if have is None or have.shape != expected.shape:
            return False
        if expected.dtype.kind == "f" and have.dtype.kind == "f":   # NaN where the variant has NaN, and only there
            nan = np.isnan(expected)
            if not np.array_equal(nan, np.isnan(have)):
                return False
            expected, have = np.where(nan, 0.0, expected), np.where(nan, 0.0, have)
        atol, rtol = spec.tol(str(expected.dtype))
        try:
            values_close(name, expected, have, NEAR_SLACK * atol, NEAR_SLACK * rtol)
        except Mismatch:
            return False
    return True
