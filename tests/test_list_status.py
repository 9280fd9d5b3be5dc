"""`drill list` says where the user stands on each problem: new, attempted, solved or due
(with since when); a word in a pipe, a glyph in colour on a terminal; --status filters and
--json carries it."""

from __future__ import annotations

import json

from drillcli.listing import problem_lines
from drillcli.catalog import Catalog
from drillcli.standing import Standing
from tests.practice_support import at, drill, fake_grade, practice_env, verdict  # noqa: F401


def _row(output: str, pid: str) -> str:
    return next(line for line in output.splitlines() if line.strip().startswith(pid + " "))


def _history(monkeypatch, fake_grade) -> None:
    """attention and softmax solved, rope graded and failed, layernorm started."""
    drill("start", "attention")
    assert drill("grade").exit_code == 0
    drill("start", "rope")
    fake_grade.append(verdict("rope", passed=1, total=3))
    assert drill("grade").exit_code == 1
    drill("start", "softmax")
    assert drill("grade").exit_code == 0
    drill("start", "layernorm")


def test_each_problem_shows_new_attempted_solved_or_due_in_words(monkeypatch, fake_grade):
    _history(monkeypatch, fake_grade)
    out = drill("list").output
    assert _row(out, "attention").endswith(" solved") and _row(out, "rope").endswith(" attempted")
    assert _row(out, "layernorm").endswith(" attempted") and _row(out, "lis").endswith(" new")
    at(monkeypatch, days=60)
    later = drill("list").output
    assert " due " in _row(later, "attention") and _row(later, "attention").endswith("d ago")


def test_status_filters_and_json_carries_status_and_due_date(monkeypatch, fake_grade):
    _history(monkeypatch, fake_grade)
    solved = drill("list", "--status", "solved").output
    assert "attention" in solved and "softmax" in solved and "rope " not in solved and "lis" not in solved
    assert drill("list", "--status", "done").exit_code == 2
    rows = {row["id"]: row for row in json.loads(drill("list", "--json").output)}
    assert rows["attention"]["status"] == "solved" and rows["attention"]["due_at"]
    assert rows["lis"] == {**rows["lis"], "status": "new", "due_at": None}
    assert rows["layernorm"]["status"] == "attempted"
    assert drill("list", "--status", "due", "--family", "norm").output.strip() == "no due problems in normalization."


def test_a_terminal_gets_a_coloured_glyph_a_pipe_the_word_and_80_columns_hold():
    specs = sorted(Catalog().summaries(), key=lambda s: (s.family, s.id))
    standings = {"attention": Standing("due", 0.0), "rope": Standing("solved", 10 ** 10)}
    plain = problem_lines(specs, 80, False, standings, now=3 * 86400.0)
    coloured = problem_lines(specs, 80, True, standings, now=3 * 86400.0)
    assert _row("\n".join(plain), "attention").endswith("due 3d ago")
    assert "↻" in "".join(coloured) and "\033[" in "".join(coloured) and "due 3d" not in "".join(coloured)
    assert max(len(line) for line in plain) <= 80
