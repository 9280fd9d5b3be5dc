"""Shared fixtures: an isolated DRILL_HOME / DRILL_WORKSPACE for every test, and
`grade_source`, which grades a source string as a problem through the real worker."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Callable

import pytest

from drillcli.catalog import Catalog
from drillcli.runner import grade
from drillcli.verdict import Verdict

GradeSource = Callable[[str, str], Verdict]


@pytest.fixture(autouse=True)
def isolated_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRILL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DRILL_WORKSPACE", str(tmp_path / "workspace"))


@pytest.fixture
def grade_source(tmp_path: Path) -> GradeSource:
    """grade_source(problem_id, source) -> Verdict, grading `source` as a user's file."""
    catalog = Catalog()
    counter = iter(range(10**6))

    def run(problem_id: str, source: str) -> Verdict:
        path = tmp_path / f"submission_{next(counter)}.py"
        path.write_text(textwrap.dedent(source))
        return grade(catalog.spec(problem_id), path, catalog)

    return run

