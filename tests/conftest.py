"""Shared fixtures: an isolated DRILL_HOME / DRILL_WORKSPACE for every test, one warm
grading server per test process, and `grade_source`, which grades a source string as a
problem through it (the real server and worker; tests/test_worker.py covers the cold path)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from drillcli import testing
from drillcli.catalog import Catalog
from drillcli.verdict import Verdict
from drillcli.worker_process import WorkerProcess

GradeSource = Callable[..., Verdict]


@pytest.fixture(autouse=True)
def isolated_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRILL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DRILL_WORKSPACE", str(tmp_path / "workspace"))


@pytest.fixture(scope="session")
def warm_worker() -> Iterator[WorkerProcess]:
    """One grading server for the whole test process: torch is imported once."""
    with WorkerProcess() as worker:
        yield worker


@pytest.fixture
def grade_source(warm_worker: WorkerProcess) -> GradeSource:
    """grade_source(problem_id, source, **spec_fields) -> Verdict, grading `source` as a user's
    file; spec_fields override the spec's (time_limit_s=1.0 for a test that must time out)."""
    catalog = Catalog()

    def run(problem_id: str, source: str, **spec_fields: Any) -> Verdict:
        return testing.grade_source(catalog.spec(problem_id), source, warm_worker, **spec_fields)

    return run

