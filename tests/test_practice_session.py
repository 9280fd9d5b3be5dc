"""The practice loop through a whole session, as a new user types it: each closed attempt
is rated once, reading the reference opens nothing, stale attempts are offered for
abandoning, reviews resume with their work, and the commands agree with each other."""

from __future__ import annotations

import os
import subprocess
import sys

import pexpect
import pytest
from fsrs import Rating

from drillcli import paths, practice
from drillcli.catalog import Catalog
from tests.practice_support import SOLUTION, T0, at, drill, fake_grade, practice_env, store, verdict  # noqa: F401

DAY = 86400
FOLLOWUPS = len(Catalog().spec("attention").followups)


def _due(problem: str = "attention", days_ago: int = 4) -> None:
    """A problem reviewed Good `days_ago` days before T0 + 10 days, and so due by then."""
    from drillcli.schedule import Signals, review

    spec = Catalog().spec(problem)
    attempt = store().start_attempt(problem, "0" * 16, T0.timestamp())
    signals = Signals(True, 300.0, spec.target_minutes * 60, 0, False)
    record = review(problem, None, signals, T0, attempt)
    store().close_attempt(attempt, "passed", T0.timestamp(), record)


def _one_review_per_closed_attempt() -> None:
    closed = [a.id for a in store().attempts() if a.outcome in ("passed", "failed")]
    reviewed = [r.attempt_id for r in store().reviews()]
    assert sorted(reviewed) == sorted(closed), (reviewed, closed)


def _backups() -> list:
    folder = paths.workspace() / ".backups"
    return sorted(folder.iterdir()) if folder.exists() else []


# -- the schedule counts each attempt once ------------------------------------------------

def test_an_attempt_closed_by_drill_grade_during_a_review_is_not_rated_again(tmp_path):
    _due()
    env = {**os.environ, "DRILL_NOW": (T0.replace(day=T0.day + 10)).isoformat(), "COLUMNS": "300"}
    review = pexpect.spawn(sys.executable, ["-m", "drillcli", "review"], env=env, encoding="utf-8", timeout=120,
                           dimensions=(50, 300))
    try:
        review.expect(r"here\s+to\s+grade")
        review.expect("Enter grade")
        paths.workspace_file("attention").write_text(SOLUTION.read_text())
        other = subprocess.run([sys.executable, "-m", "drillcli", "grade"], env=env, capture_output=True, text=True)
        assert other.returncode == 0 and "rated" in other.stdout, other.stdout + other.stderr
        review.sendline("")
        review.expect("already closed elsewhere")
        review.expect(pexpect.EOF)
    finally:
        review.close(force=True)
    assert len(store().reviews("attention")) == 2      # the first review, and this attempt's one
    _one_review_per_closed_attempt()


def test_reading_the_reference_with_no_attempt_in_progress_opens_nothing(monkeypatch, fake_grade):
    result = drill("solution", "attention")
    assert result.exit_code == 0 and "reference solution" in result.output
    assert store().attempts() == []
    drill("start", "attention")
    drill("grade")                                       # passes: the attempt closes, rated once
    paths.workspace_file("attention").write_text(SOLUTION.read_text() + "\n# mine\n")
    assert drill("diff").exit_code == 0                 # after the pass: free, no confirmation
    assert drill("solution").exit_code == 0
    assert [a.outcome for a in store().attempts()] == ["passed"]
    assert not store().attempts()[0].solution_seen
    _one_review_per_closed_attempt()


def test_a_stale_attempt_is_shown_and_the_next_start_offers_to_abandon_it(monkeypatch):
    drill("start", "attention")
    at(monkeypatch, days=9)
    status = drill().output
    assert "stale: attention" in status and "9 days ago" in status and "in progress" not in status
    kept = drill("start", "attention", input="n\n")
    assert "still open" in kept.output and store().open_attempt("attention").started_at == T0.timestamp()
    fresh = drill("start", "attention", input="y\n")
    assert fresh.exit_code == 0
    old, new = store().attempts("attention")
    assert old.outcome == "abandoned" and new.is_open and new.started_at > old.started_at
    assert store().reviews() == [] and store().cards() == []      # the schedule is not touched


# -- resuming a review keeps the work ------------------------------------------------------

def test_quit_then_review_again_resumes_the_file_and_the_clock(monkeypatch, fake_grade):
    _due()
    at(monkeypatch, days=10)
    assert drill("review", input="q\n").exit_code == 0
    attempt = store().open_attempt("attention")
    path = paths.workspace_file("attention")
    path.write_text("# half of my attention\n")
    at(monkeypatch, days=10, minutes=5)
    result = drill("review", input="q\n")
    assert "timer kept running" in result.output
    assert path.read_text() == "# half of my attention\n" and _backups() == []
    assert store().open_attempt("attention").id == attempt.id


def test_a_passed_attempt_quit_during_its_followups_goes_straight_to_them(monkeypatch, fake_grade):
    _due()
    at(monkeypatch, days=10)
    quit_in_followups = drill("review", input="\n")      # grade passes, then the input ends
    assert quit_in_followups.exit_code != 0
    attempt = store().open_attempt("attention")
    assert attempt is not None and store().passing_grade(attempt.id) is not None
    resumed = drill("review", input="\n" * FOLLOWUPS + "4\n")
    assert resumed.exit_code == 0, resumed.output
    assert "already passed" in resumed.output and "reference answer" in resumed.output
    assert store().attempt(attempt.id).outcome == "passed"
    assert len([r for r in store().reviews() if r.attempt_id == attempt.id]) == 1
    assert len(store().grades("attention")) == 1          # not graded again


def test_the_rating_prompt_previews_each_answer_and_the_session_takes_a_limit(monkeypatch, fake_grade):
    _due("attention")
    _due("softmax")
    at(monkeypatch, days=10)
    status = drill().output
    minutes = (Catalog().spec("attention").target_minutes + Catalog().spec("softmax").target_minutes)
    assert f"due today: 2 problems, about {minutes:.0f} min" in status
    followups = len(Catalog().spec(store().cards()[0].problem).followups)
    result = drill("review", "--limit", "1", input="\n" + "\n" * followups + "3\n")
    assert result.exit_code == 0, result.output
    assert "2 are due; this session takes the 1 most overdue" in result.output
    assert "can only lower the rating" in result.output
    for name in ("1 Again", "2 Hard", "3 Good", "4 Easy"):
        assert name in result.output
    assert "next review about" in result.output
    assert len(store().reviews()) == 3


# -- consistency ------------------------------------------------------------------------------

def test_hint_solution_diff_and_reset_default_to_the_current_problem(fake_grade):
    drill("start", "attention")
    assert "hint 1" in drill("hint", input="y\n").output.lower()
    assert drill("diff", input="n\n").exit_code == 0
    assert drill("solution", "--yes").exit_code == 0 and store().open_attempt("attention").solution_seen
    assert "backed up" in drill("reset").output


def test_the_first_hint_says_what_it_costs_and_asks_once_per_attempt():
    drill("start", "attention")
    declined = drill("hint", input="n\n")
    assert declined.exit_code == 0 and "at most Hard" in declined.output and "No hint revealed" in declined.output
    assert store().open_attempt("attention").hints_used == 0
    assert drill("hint", input="y\n").exit_code == 0
    second = drill("hint")                               # no question the second time
    assert second.exit_code == 0 and "at most Hard" not in second.output
    assert store().open_attempt("attention").hints_used == 2
    assert "2 hints" in drill().output


def test_declining_a_confirmation_says_what_was_not_done_and_exits_0(fake_grade):
    drill("start", "attention")
    assert drill("solution", input="n\n").output.strip().endswith("Nothing revealed; the attempt is unchanged.")
    refused = drill("reset", "--history", input="n\n")
    assert refused.exit_code == 0 and "Nothing deleted" in refused.output
    assert store().attempts("attention")


def test_help_lists_choices_and_counts_read_right():
    assert "csv|json" in drill("export", "--help").output.replace(" ", "")
    drill("start", "attention")
    drill("hint", "--yes")
    assert "1 hint" in drill().output and "1 hints" not in drill().output


def test_a_pass_in_watch_shows_the_rating_and_the_next_review(monkeypatch):
    from tests.test_practice_watch import Event, _watcher

    drill("start", "attention")
    path = paths.workspace_file("attention")
    watcher = _watcher(path, [verdict(passed=3)])
    watcher.tracker.saw(Event("modified", str(path)))
    watcher.tracker.monotonic.t += 1
    assert watcher.step()
    shown = str(watcher._last_verdict())
    assert "rated" in shown and "next review" in shown


# -- the whole session ------------------------------------------------------------------------

def test_a_whole_session_rates_each_closed_attempt_once_and_moves_no_work(monkeypatch, fake_grade):
    drill("start", "attention")
    path = paths.workspace_file("attention")
    path.write_text("# my attempt\n")
    fake_grade += [verdict(passed=1), verdict(passed=3)]
    at(monkeypatch, minutes=3)
    assert drill("grade").exit_code == 1                  # fail
    drill("hint", "--yes")                                # hint
    at(monkeypatch, minutes=8)
    assert "rated Hard" in drill("grade").output          # pass (one hint: Hard)
    assert drill("diff").exit_code == 0                   # after the pass: free
    at(monkeypatch, days=12)
    assert drill("review", input="q\n").exit_code == 0   # a review starts from a fresh stub...
    (passed_file,) = _backups()                            # (the passed attempt's file, kept)
    path.write_text("# review, half done\n")
    at(monkeypatch, days=12, minutes=4)
    assert drill("review", input="\n" + "\n" * FOLLOWUPS + "3\n").exit_code == 0   # ...and resumes
    assert _backups() == [passed_file] and path.read_text() == "# review, half done\n"
    _one_review_per_closed_attempt()
    outcomes = [a.outcome for a in store().attempts("attention")]
    assert outcomes == ["passed", "passed"]
    assert practice.is_stale(store().attempts()[0]) is False
    assert [r.rating for r in store().reviews()][0] == int(Rating.Hard)


@pytest.fixture(autouse=True)
def _no_server(monkeypatch):
    """Review sessions here grade through fake verdicts, or through subprocesses."""
    monkeypatch.setattr("drillcli.worker_process.WorkerProcess.start", lambda self: None)
