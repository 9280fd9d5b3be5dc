"""Helpers the practice-loop tests share: the CLI driven in-process with a fixed clock,
fake verdicts (so that most tests do not run the worker), and a tiny catalog."""

from __future__ import annotations

import shutil
import sqlite3
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from drillcli import paths
from drillcli.catalog import Catalog, builtin_root
from drillcli.cli import app
from drillcli.store import Store
from drillcli.verdict import CaseResult, Verdict

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)   # a Monday
SOLUTION = builtin_root() / "solutions" / "attention.py"


@pytest.fixture(autouse=True)
def practice_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fuzzing off, the clock at T0, days counted in UTC; no editor."""
    monkeypatch.setenv("DRILL_FUZZ", "0")
    monkeypatch.setenv("DRILL_NOW", T0.isoformat())
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.setenv("COLUMNS", "200")   # no line wrapping inside asserted messages
    monkeypatch.delenv("EDITOR", raising=False)
    monkeypatch.delenv("VISUAL", raising=False)
    time.tzset()


def at(monkeypatch: pytest.MonkeyPatch, **delta: float) -> datetime:
    """Move the fixed clock to T0 + delta (e.g. at(mp, minutes=4))."""
    moment = T0 + timedelta(**delta)
    monkeypatch.setenv("DRILL_NOW", moment.isoformat())
    return moment


def drill(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)


def store() -> Store:
    return Store(paths.db_path())


def db() -> sqlite3.Connection:
    return sqlite3.connect(paths.db_path())


def verdict(problem: str = "attention", passed: int = 3, total: int = 3) -> Verdict:
    """A verdict as the grader would return it, without running the worker."""
    cases = [CaseResult(f"case-{i}", "q(2,2)", "pass" if i < passed else "fail", kind="" if i < passed else "value",
                        message="" if i < passed else "values differ", max_abs=0.0 if i < passed else 1.0)
             for i in range(total)]
    return Verdict(problem, "passed" if passed == total else "failed", cases)


@pytest.fixture
def fake_grade(monkeypatch: pytest.MonkeyPatch) -> list[Verdict]:
    """Replace the worker: `drill grade` and review sessions return the verdicts pushed
    onto the returned list (a passing one when it is empty)."""
    queue: list[Verdict] = []

    def grade(spec, path, catalog=None, worker=None) -> Verdict:
        return queue.pop(0) if queue else verdict(spec.id)

    monkeypatch.setattr("drillcli.runner.grade", grade)
    monkeypatch.setattr("drillcli.review.grade_file", grade)
    monkeypatch.setattr("drillcli.worker_process.WorkerProcess.start", lambda self: None)   # no server to warm
    return queue


def tiny_catalog(root: Path, ids: list[str]) -> Catalog:
    """A catalog of copies of `attention` under other ids."""
    for pid in ids:
        folder = root / "problems" / pid
        folder.mkdir(parents=True)
        spec = (builtin_root() / "problems" / "attention" / "spec.yaml").read_text()
        (folder / "spec.yaml").write_text(spec.replace("id: attention", f"id: {pid}").replace("aliases: [sdpa]", ""))
        shutil.copy(builtin_root() / "problems" / "attention" / "stub.py", folder / "stub.py")
    return Catalog(root)
