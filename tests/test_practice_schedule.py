"""The rating mapping, the FSRS settings, review order and due dates with a fixed clock,
review sessions and `drill next`."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fsrs import Rating

from drillcli import paths, practice, schedule
from drillcli.catalog import builtin_root
from tests.practice_support import (T0, at, drill, fake_grade, practice_env, store, tiny_catalog,  # noqa: F401
                                    verdict)

TARGET = 600.0
DAY = 86400


@pytest.mark.parametrize("passed, elapsed, hints, seen, self_rating, expected", [
    (False, 100, 0, False, None, Rating.Again),      # failed
    (True, 100, 0, True, None, Rating.Again),        # solution revealed
    (True, 100, 2, False, None, Rating.Again),       # two hints
    (True, 100, 3, False, None, Rating.Again),
    (True, 100, 1, False, None, Rating.Hard),        # one hint
    (True, 601, 0, False, None, Rating.Hard),        # over the target
    (True, 600, 0, False, None, Rating.Good),        # on the target
    (True, 300, 0, False, None, Rating.Good),        # exactly half is not under half
    (True, 299, 0, False, None, Rating.Easy),        # under half the target
    (True, 299, 0, False, 2, Rating.Hard),           # the follow-ups can lower it...
    (True, 400, 0, False, 4, Rating.Good),           # ...never raise it
    (False, 100, 0, False, 4, Rating.Again),
])
def test_rating_mapping(passed, elapsed, hints, seen, self_rating, expected):
    signals = schedule.Signals(passed, elapsed, TARGET, hints, seen, self_rating)
    assert schedule.rating_for(signals) == expected


def test_scheduler_settings_suit_coding_problems(monkeypatch):
    s = schedule.scheduler()
    assert s.learning_steps == () and s.relearning_steps == ()
    assert s.desired_retention == 0.9 and 150 <= s.maximum_interval <= 200
    assert s.enable_fuzzing is False
    monkeypatch.delenv("DRILL_FUZZ")
    assert schedule.scheduler().enable_fuzzing is True


def test_card_ids_come_from_the_problem():
    assert schedule.card_id("attention") == schedule.card_id("attention") != schedule.card_id("rope")


def _review(problem: str, rating_signals: schedule.Signals, when) -> None:
    s = store()
    record = schedule.review(problem, s.card(problem), rating_signals, when)
    s.close_attempt(s.start_attempt(problem, "h", when.timestamp()), "passed", when.timestamp(), record)


GOOD = schedule.Signals(True, 400, TARGET, 0, False)
AGAIN = schedule.Signals(False, 400, TARGET, 0, False)


def test_due_dates_are_utc_and_capped(monkeypatch):
    when = T0
    for _ in range(12):
        _review("attention", GOOD, when)
        when = store().cards()[0].due_at
        when = T0.fromtimestamp(when, T0.tzinfo)
    dues = [r.due_at - r.reviewed_at for r in store().reviews("attention")]
    assert dues[0] == 2 * DAY                      # first Good: FSRS's initial stability, no learning steps
    assert all(b >= a for a, b in zip(dues, dues[1:]))
    assert max(dues) == schedule.MAXIMUM_INTERVAL_DAYS * DAY


def test_review_order_is_most_overdue_first(tmp_path, monkeypatch):
    catalog = tiny_catalog(tmp_path / "cat", ["p-a", "p-b", "p-c", "p-new"])
    _review("p-a", GOOD, T0)                                  # due T0 + 2 days
    _review("p-b", AGAIN, T0)                                 # due T0 + 1 day
    _review("p-c", GOOD, T0 + timedelta(days=1))              # due T0 + 3 days
    at(monkeypatch, days=1, hours=1)
    assert [c.problem for c in practice.due_cards(store())] == ["p-b"]
    assert practice.next_problem(store(), catalog) == ("p-b", "due")
    at(monkeypatch, days=5)
    assert [c.problem for c in practice.due_cards(store())] == ["p-b", "p-a", "p-c"]
    listed = drill("review", "--list").output
    assert listed.index("p-b") < listed.index("p-a") < listed.index("p-c")
    assert "2026-03-03 09:00" in listed                        # p-b, shown in UTC
    for pid in ("p-a", "p-b", "p-c"):
        _review(pid, GOOD, T0 + timedelta(days=5))
    assert practice.next_problem(store(), catalog) == ("p-new", "new")


def test_due_today_counts_the_rest_of_the_day(monkeypatch):
    _review("attention", GOOD, T0)                            # due 2026-03-04 09:00 UTC
    at(monkeypatch, days=2, hours=-8)                         # 01:00 on the due day
    assert [c.problem for c in practice.due_cards(store())] == ["attention"]
    at(monkeypatch, days=1, hours=14)                         # the evening before
    assert practice.due_cards(store()) == []


def test_rebuild_replays_the_raw_signals(monkeypatch):
    _review("attention", GOOD, T0)
    _review("attention", AGAIN, T0 + timedelta(days=2))
    before = store().card("attention")
    store().replace_cards([])
    assert drill("review", "--rebuild").exit_code == 0
    after = store().card("attention")
    assert (after.due_at, after.card_id) == (before.due_at, before.card_id)
    monkeypatch.setattr(schedule, "rating_for", lambda s: Rating.Easy)   # a changed mapping reschedules
    drill("review", "--rebuild")
    assert store().card("attention").due_at > before.due_at


def test_review_session_fresh_stub_followups_and_self_rating(monkeypatch, fake_grade):
    _review("attention", GOOD, T0)
    path = paths.workspace_file("attention")
    path.parent.mkdir(parents=True)
    path.write_text("# yesterday's work\n")
    at(monkeypatch, days=3)
    fake_grade += [verdict(passed=1), verdict(passed=3)]
    followups = len(practice.Catalog().spec("attention").followups)
    answers = "h\ny\n" + "\n" + "\n" + "\n" * followups + "2\n"   # hint (confirmed), failing grade, passing grade, follow-ups
    result = drill("review", input=answers)
    assert result.exit_code == 0, result.output
    assert "reference answer" in result.output and "Session done" in result.output
    assert [b.read_text() for b in (path.parent / ".backups").iterdir()] == ["# yesterday's work\n"]
    assert path.read_bytes() == (builtin_root() / "problems" / "attention" / "stub.py").read_bytes()
    last = store().reviews("attention")[-1]
    assert (last.hints_used, last.self_rating, last.rating, last.passed) == (1, 2, int(Rating.Hard), True)
    attempt = store().latest_attempt("attention")
    assert attempt.mode == "review" and attempt.outcome == "passed"
    assert len(store().grades("attention")) == 2


def test_review_session_give_up_is_again_and_quit_keeps_the_attempt(monkeypatch, tmp_path):
    _review("attention", GOOD, T0)
    at(monkeypatch, days=3)
    assert drill("review", input="q\n").exit_code == 0
    assert store().latest_attempt("attention").is_open
    assert drill("review", input="g\n").exit_code == 0
    last = store().reviews("attention")[-1]
    assert last.rating == int(Rating.Again) and not last.passed
    assert "Nothing is due" in drill("review").output


def test_next_starts_the_most_overdue_review(monkeypatch):
    _review("attention", GOOD, T0)
    at(monkeypatch, days=4)
    result = drill("next")
    assert "due for review" in result.output
    assert store().open_attempt("attention").mode == "review"


def test_next_starts_an_unseen_problem_when_nothing_is_due():
    result = drill("next")
    assert "new problem" in result.output
    (attempt,) = store().attempts()
    assert attempt.mode == "next" and paths.workspace_file(attempt.problem).exists()
