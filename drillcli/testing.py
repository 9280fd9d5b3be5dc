"""Helpers for a problem's tests, the catalog's and a pack's alike: grade a source string as
a user's file, and assert that a correct variant passes with a margin and that a bug fails
on at least two cases (so that editing one case cannot hide it)."""

from __future__ import annotations

import atexit
import tempfile
import textwrap
from dataclasses import replace
from pathlib import Path
from typing import Any

from drillcli.spec import Spec, load_spec
from drillcli.verdict import Verdict
from drillcli.worker_process import WorkerProcess

_worker: WorkerProcess | None = None


def shared_worker() -> WorkerProcess:
    """One grading server for the test process: torch is imported once, not per grade."""
    global _worker
    if _worker is None:
        _worker = WorkerProcess()
        atexit.register(_worker.close)
    return _worker


def problem_at(folder: Path) -> Spec:
    """The problem in `folder` (problems/<id>), with its pack's name when it is in a pack."""
    from drillcli.packs import PACK_FILE, load_pack

    root = folder.resolve().parent.parent
    pack = load_pack(root).name if (root / PACK_FILE).is_file() else ""
    return load_spec(folder / "spec.yaml", pack)


def grade_source(spec: Spec, source: str, worker: WorkerProcess | None = None, **spec_fields: Any) -> Verdict:
    """Grade `source` (dedented) as a user's file; spec_fields override the spec's."""
    from drillcli.catalog import Catalog
    from drillcli.runner import grade

    with tempfile.TemporaryDirectory(prefix="drill-test-") as folder:
        path = Path(folder) / "submission.py"
        path.write_text(textwrap.dedent(source), encoding="utf-8")
        return grade(replace(spec, **spec_fields), path, Catalog(), worker=worker or shared_worker())


def describe(verdict: Verdict) -> str:
    """A verdict summary for assertion messages."""
    first = verdict.first_failure()
    where = f"; first failure {first.name}: {first.message} {first.detail}" if first else ""
    return f"{verdict.status} {verdict.passed}/{verdict.total} {verdict.message}{where}"


def mutate(source: str, *pairs: tuple[str, str], count: int = 1) -> str:
    """`source` with each (old, new) replaced in turn. Each `old` must occur exactly `count`
    times, so that a typo cannot leave a "bug" identical to the correct code."""
    for old, new in pairs:
        assert source.count(old) == count, f"expected {count} occurrence(s) of {old!r}"
        source = source.replace(old, new)
    return source


def failing_cases(verdict: Verdict) -> list[str]:
    """Names of the cases a verdict fails (wrong values or an error), in table order."""
    return [c.name for c in verdict.cases if c.status in ("fail", "error")]


def assert_rejected(verdict: Verdict, at_least: int = 2) -> None:
    """A bug must fail at least `at_least` cases, so that editing one case cannot hide it.
    A verdict with no case table (syntax error, forbidden API at import) counts as rejected."""
    assert not verdict.ok, describe(verdict)
    if verdict.cases:
        failing = failing_cases(verdict)
        assert len(failing) >= at_least, f"rejected by {len(failing)} case(s) only: {failing}; {describe(verdict)}"


def assert_within_half_tolerance(verdict: Verdict) -> None:
    """A correct solution must pass every case using at most half of its tolerance, so that
    a different (still correct) order of float operations cannot tip it over."""
    assert verdict.ok, describe(verdict)
    tight = {c.name: round(c.tol_used, 3) for c in verdict.cases if c.tol_used is not None and c.tol_used > 0.5}
    assert not tight, f"cases using over half of the tolerance: {tight}"


def assert_near_miss(verdict: Verdict, spec: Spec, variant: str) -> None:
    """A file written in the other convention `variant` fails (never passes) and its verdict
    names that convention, in the summary as in `--json`."""
    message, _ = spec.module("graders").NEAR_MISSES[variant]
    assert verdict.status == "failed", describe(verdict)
    assert verdict.near_miss == message, f"near miss {verdict.near_miss!r}; {describe(verdict)}"
    assert verdict.explanation == message
