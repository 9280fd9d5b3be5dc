"""Attempt recording across start / grade / hint / solution / diff, and backups."""

from __future__ import annotations

import json

from drillcli import paths
from drillcli.catalog import builtin_root
from drillcli.workspace import code_hash
from tests.practice_support import SOLUTION, T0, at, db, drill, fake_grade, practice_env, store, verdict  # noqa: F401

STUB = builtin_root() / "problems" / "attention" / "stub.py"


def test_start_opens_an_attempt_with_the_stub_hash_and_the_clock():
    result = drill("start", "attention")
    assert result.exit_code == 0, result.output
    attempt = store().open_attempt("attention")
    assert attempt.started_at == T0.timestamp()
    assert attempt.code_hash == code_hash(STUB)
    assert paths.workspace_file("attention").read_bytes() == STUB.read_bytes()
    assert store().current_problem() == "attention"


def test_start_keeps_edits_and_resumes_the_attempt(monkeypatch):
    drill("start", "attention")
    path = paths.workspace_file("attention")
    path.write_text("# my work\n")
    at(monkeypatch, minutes=3)
    result = drill("start", "attention")
    assert "kept your edited file" in result.output
    assert path.read_text() == "# my work\n"
    attempts = store().attempts("attention")
    assert len(attempts) == 1 and attempts[0].started_at == T0.timestamp()


def test_start_fresh_backs_up_edits_and_abandons_the_open_attempt(monkeypatch):
    drill("start", "attention")
    path = paths.workspace_file("attention")
    path.write_text("# my work\n")
    at(monkeypatch, minutes=3)
    result = drill("start", "attention", "--fresh")
    assert result.exit_code == 0
    backups = list((path.parent / ".backups").iterdir())
    assert [b.read_text() for b in backups] == ["# my work\n"]
    assert backups[0].name == "attention-20260302-090300.py"
    assert path.read_bytes() == STUB.read_bytes()
    first, second = store().attempts("attention")
    assert first.outcome == "abandoned" and second.is_open


def test_hints_are_revealed_in_order_and_recorded():
    drill("start", "attention")
    first = drill("hint", "attention", input="y\n").output
    second = drill("hint", "attention").output
    assert "hint 1/3" in first and "hint 2/3" not in first
    assert "hint 1/3" in second and "hint 2/3" in second
    drill("hint", "attention")
    last = drill("hint", "attention").output
    assert "no more hints" in last
    assert store().open_attempt("attention").hints_used == 3


def test_solution_asks_first_and_counts_as_seen():
    drill("start", "attention")
    refused = drill("solution", "attention", input="n\n")
    assert refused.exit_code == 0 and "scaled_dot_product_attention" not in refused.output.split("?")[-1]
    assert not store().open_attempt("attention").solution_seen
    shown = drill("solution", "attention", input="y\n")
    assert shown.exit_code == 0 and "torch.softmax" in shown.output
    assert store().open_attempt("attention").solution_seen


def test_hint_without_an_attempt_opens_one():
    drill("hint", "attention", "--yes")
    attempt = store().open_attempt("attention")
    assert attempt is not None and attempt.hints_used == 1


def test_diff_shows_the_reference_against_the_file():
    drill("start", "attention")
    result = drill("diff", "attention", "--yes")
    assert result.exit_code == 0
    assert "+    weights = torch.softmax" in result.output and "-    raise NotImplementedError" in result.output
    assert store().open_attempt("attention").solution_seen


def test_every_grade_is_kept_and_a_pass_closes_the_attempt(monkeypatch, fake_grade):
    drill("start", "attention")
    fake_grade += [verdict(passed=1, total=3), verdict(passed=3, total=3), verdict(passed=3, total=3)]
    at(monkeypatch, minutes=2)
    assert drill("grade").exit_code == 1
    at(monkeypatch, minutes=4)
    assert drill("grade").exit_code == 0
    at(monkeypatch, minutes=9)
    assert drill("grade").exit_code == 0           # a grade after the pass is kept too
    grades = store().grades("attention")
    assert [(g.passed_cases, g.elapsed_s) for g in grades] == [(1, 120), (3, 240), (3, 540)]
    attempt = store().latest_attempt("attention")
    assert attempt.outcome == "passed" and attempt.elapsed_s == 240 and attempt.closed_at == (T0.timestamp() + 240)
    (review,) = store().reviews("attention")
    assert (review.rating, review.elapsed_s, review.target_s, review.passed) == (4, 240, 600, True)


def test_hints_and_solution_reach_the_grade_and_the_review(monkeypatch, fake_grade):
    drill("start", "attention")
    drill("hint", "attention", "--yes")
    drill("solution", "attention", "--yes")
    at(monkeypatch, minutes=3)
    drill("grade")
    (grade,) = store().grades("attention")
    assert grade.hints_used == 1 and grade.solution_seen
    (review,) = store().reviews("attention")
    assert review.rating == 1 and review.hints_used == 1 and review.solution_seen


def test_grade_json_is_one_document(monkeypatch, fake_grade):
    drill("start", "attention")
    fake_grade.append(verdict(passed=2, total=3))
    at(monkeypatch, seconds=90)
    result = drill("grade", "--json")
    doc = json.loads(result.output)
    assert doc["problem"] == "attention" and doc["status"] == "failed" and doc["elapsed_s"] == 90
    assert doc["score"] == {"passed": 2, "total": 3, "fraction": 2 / 3}
    assert doc["cases"][2] == {"name": "case-2", "status": "fail", "kind": "value", "message": "values differ",
                               "shapes": "q(2,2)", "errors": {"max_abs": 1.0, "max_rel": None}}


def test_real_grades_through_the_worker(monkeypatch):
    """The stub fails as not implemented, the reference passes: both recorded, with --json."""
    drill("start", "attention")
    at(monkeypatch, minutes=1)
    stub = json.loads(drill("grade", "--json").output)
    assert stub["status"] == "not_implemented"
    paths.workspace_file("attention").write_text(SOLUTION.read_text())
    at(monkeypatch, minutes=7)
    passed = drill("grade")
    assert passed.exit_code == 0 and "rated Good" in passed.output
    statuses = [(g.status, g.elapsed_s) for g in store().grades("attention")]
    assert statuses == [("not_implemented", 60), ("passed", 420)]
    with db() as conn:
        assert conn.execute("SELECT rating FROM reviews").fetchall() == [(3,)]


def test_interrupted_grade_records_nothing_and_keeps_history(monkeypatch, fake_grade):
    drill("start", "attention")
    drill("grade")

    def interrupted(spec, path, catalog=None):
        raise KeyboardInterrupt

    monkeypatch.setattr("drillcli.runner.grade", interrupted)
    result = drill("grade")
    assert result.exit_code == 130 and "not recorded" in result.output
    assert len(store().grades("attention")) == 1
    with db() as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_reset_backs_up_and_history_needs_confirmation(fake_grade):
    drill("start", "attention")
    path = paths.workspace_file("attention")
    path.write_text("# mine\n")
    drill("grade")
    result = drill("reset", "attention")
    assert "backed up" in result.output and not path.exists()
    assert [b.read_text() for b in (path.parent / ".backups").iterdir()] == ["# mine\n"]
    assert drill("reset", "attention", "--history", input="n\n").exit_code == 0
    assert len(store().attempts("attention")) == 1
    assert drill("reset", "attention", "--history", input="y\n").exit_code == 0
    s = store()
    assert s.attempts("attention") == [] and s.grades("attention") == [] and s.card("attention") is None


def test_reset_abandons_the_attempt_in_progress():
    drill("start", "attention")
    drill("reset", "attention")
    assert store().latest_attempt("attention").outcome == "abandoned"
