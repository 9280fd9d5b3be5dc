"""Screens that fit the terminal (issue 15): long lines wrap instead of being cut, the grade
table keeps its error columns at 60 columns, the heatmap reads without colour, tall prompts
go through a pager on a terminal, `drill start` writes the prompt beside the stub, and a cold
grade shows a spinner on a terminal. Driven through the CLI: typer's runner, or a pty."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pexpect
import pytest

from drillcli import paths
from drillcli.catalog import Catalog, builtin_root
from drillcli.render import prompt_markdown
from tests.support import mutate
from tests.practice_support import at, drill, fake_grade, practice_env  # noqa: F401

SOLUTION = builtin_root() / "solutions" / "attention.py"


def _spawn(*args: str, rows: int, columns: int = 80, **env: str) -> pexpect.spawn:
    """`drill ARGS` in a pseudo-terminal of the given size."""
    environ = {**os.environ, "LINES": str(rows), "COLUMNS": str(columns), "TERM": "xterm", **env}
    environ.pop("NO_COLOR", None)
    return pexpect.spawn(sys.executable, ["-m", "drillcli", *args], env=environ, dimensions=(rows, columns),
                         encoding="utf-8", timeout=60)


def test_diff_wraps_long_lines_so_a_change_past_the_edge_shows(monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    drill("start", "attention")
    mine = paths.workspace_file("attention")
    long_line = "    weights = scores.softmax(dim=-1)  # a comment that runs on well past sixty columns MARKER_TAIL\n"
    mine.write_text(SOLUTION.read_text() + long_line)
    out = drill("diff", "attention", "--yes").output
    assert "MARKER_TAIL" in out
    assert max(len(line) for line in out.splitlines()) <= 60


def test_grade_at_60_columns_keeps_the_error_columns_and_whole_phrases(monkeypatch, tmp_path):
    monkeypatch.setenv("COLUMNS", "60")
    buggy = tmp_path / "attention.py"
    buggy.write_text(mutate(SOLUTION.read_text(), ("/ math.sqrt(q.shape[-1])", "/ q.shape[-1]")))   # scale by d
    result = drill("grade", "attention", "--file", str(buggy))
    lines = result.output.splitlines()
    assert result.exit_code == 1, result.output
    assert max(len(line) for line in lines) <= 60
    assert "abs err" in result.output and "rel err" in result.output
    failing_rows = [line for line in lines if "FAIL" in line]
    assert failing_rows and all(line.count("e-") + line.count("e+") >= 2 for line in failing_rows), failing_rows
    summary = [line for line in lines if "cases passed" in line]
    assert summary and any("some cases give wrong values" in line for line in lines[lines.index(summary[0]):])


def test_heatmap_without_colour_carries_the_counts(monkeypatch, fake_grade):
    monkeypatch.setenv("NO_COLOR", "1")
    for day in range(3):
        at(monkeypatch, days=day)
        drill("start", "attention")
        for _ in range(day * 3 + 1):     # 1, 4 and 7 grades: three different levels
            drill("grade")
    out = drill("stats").output
    grid = out[out.index("activity"):]
    assert "░" in grid and "▒" in grid and "█" in grid and "·" in grid
    assert "\033[" not in out


def test_start_writes_the_prompt_beside_the_stub():
    result = drill("start", "kv-cache")
    assert result.exit_code == 0, result.output
    md = paths.workspace() / "kv_cache.md"
    assert md.read_text(encoding="utf-8") == prompt_markdown(Catalog().spec("kv-cache"))
    assert md.read_text(encoding="utf-8").startswith("# KV cache for incremental decoding\n")


def test_a_prompt_taller_than_the_terminal_goes_through_the_pager():
    child = _spawn("show", "attention", rows=12, PAGER="sed s/^/PAGED:/")
    child.expect(pexpect.EOF)
    assert "PAGED:" in child.before


def test_a_prompt_that_fits_is_printed_directly():
    child = _spawn("show", "attention", rows=400, PAGER="sed s/^/PAGED:/")
    child.expect(pexpect.EOF)
    assert "PAGED:" not in child.before and "Scaled dot-product attention" in child.before


def test_no_pager_when_not_on_a_terminal(monkeypatch):
    monkeypatch.setenv("LINES", "5")
    monkeypatch.setenv("PAGER", "sed s/^/PAGED:/")
    out = drill("show", "attention").output
    assert "PAGED:" not in out and "Scaled dot-product attention" in out


def test_cold_grade_shows_a_spinner_on_a_terminal_only(tmp_path):
    answer = tmp_path / "attention.py"
    answer.write_text(SOLUTION.read_text())
    child = _spawn("grade", "attention", "--file", str(answer), rows=60, columns=120)
    child.expect("grading attention.py as attention")
    child.expect(pexpect.EOF)
    assert "cases passed" in child.before


@pytest.mark.usefixtures("fake_grade")
def test_no_spinner_when_not_on_a_terminal():
    drill("start", "attention")
    assert "grading" not in drill("grade").output
