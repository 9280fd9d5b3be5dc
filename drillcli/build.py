"""Maintainer side: produce each problem's fixtures from its reference solution, and
check that the stored fixtures still match what the reference produces.

Expected outputs come from running `solutions/<id>.py` through the same harness that
drives user code; the grader's near misses (NEAR_MISSES) are run the same way. Problems whose grader sets REFERENCE_DTYPE = "float64" compute the
expected values of float32 cases in float64 and round them once, so the fixture holds
the best float32 answer rather than one float32 formulation's rounding.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from drillcli import harness
from drillcli.catalog import Catalog
from drillcli.fixtures import TENSOR, Case, load_cases, save_cases
from drillcli.spec import Spec


def _grader(spec: Spec) -> Any:
    return spec.module("graders")


def reference_entry(spec: Spec) -> Any:
    return getattr(spec.module("solutions"), spec.entry)


def _upcast(case: Case) -> Case:
    inputs = {k: (v.astype(np.float64) if case.kinds[k] == TENSOR and v.dtype == np.float32 else v)
              for k, v in case.inputs.items()}
    return replace(case, inputs=inputs)


def _run(entry: Any, spec: Spec, grader: Any, case: Case) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    run_one = getattr(grader, "run", harness.run_case)
    torch.manual_seed(case.seed or 0)
    raw = run_one(entry, spec.kind, case, list(grader.RETURNS))
    arrays, types = {}, {}
    for name, value in raw.items():
        arrays[name], types[name] = harness.describe(value)
    return arrays, types


def _outputs(entry: Any, spec: Spec, grader: Any, case: Case) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """What `entry` gives on the case, through the grader's harness (float64 truth if asked)."""
    outputs, types = _run(entry, spec, grader, case)
    if getattr(grader, "REFERENCE_DTYPE", None) == "float64" and case.dtype == "float32":
        precise, _ = _run(entry, spec, grader, _upcast(case))
        outputs = {k: precise[k].astype(v.dtype) for k, v in outputs.items()}
    return outputs, types


def _differs(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return a.keys() != b.keys() or any(a[k].shape != b[k].shape or not np.array_equal(a[k], b[k], equal_nan=True)
                                       for k in a)


def build_cases(spec: Spec) -> list[Case]:
    """Every case of the problem with expected outputs from the reference solution, and the
    outputs of each of the grader's NEAR_MISSES (another convention, run the same way) on
    the cases where they differ from the expected ones."""
    grader, entry = _grader(spec), reference_entry(spec)
    near_misses = getattr(grader, "NEAR_MISSES", {})
    cases = grader.cases()
    for case in cases:
        case.outputs, case.out_types = _outputs(entry, spec, grader, case)
        for variant, (_, implementation) in near_misses.items():
            outputs, _ = _outputs(implementation, spec, grader, case)
            if _differs(outputs, case.outputs):
                case.near[variant] = outputs
    return cases


def write_fixtures(spec: Spec, catalog: Catalog) -> Path:
    path = catalog.fixture_path(spec)
    save_cases(path, spec.id, build_cases(spec))
    return path


def drift(spec: Spec, catalog: Catalog) -> list[str]:
    """Differences between the stored fixtures and a fresh build; empty when in sync."""
    from drillcli.checking import differences

    return differences(spec, load_cases(catalog.fixture_path(spec)), build_cases(spec))
