"""A mock round and a quiz session end to end, through the real CLI with scripted input and a
fixed clock: the round pauses and resumes within its time left, allows no hints, scores
itself out of 100, reschedules what failed as Again and is stored, shown and exported."""

from __future__ import annotations

import json

from fsrs import Rating
from rich.console import Console

from drillcli import clock, paths
from drillcli.catalog import Catalog
from drillcli.deck import deck
from drillcli.mock import MockSession, new_round
from drillcli.store import Store
from tests.practice_support import at, drill, fake_grade, practice_env, verdict  # noqa: F401


def _store() -> Store:
    return Store(paths.db_path())


def _plan() -> dict:
    return json.loads(_store().mocks()[-1].plan)


def test_a_mock_round_pauses_resumes_and_scores_itself(monkeypatch, fake_grade):
    first = drill("mock", "--minutes", "45", "--seed", "7", input="q\n")    # pause at once, on problem 1
    assert first.exit_code == 0 and "Paused with 45m00s left" in first.output
    plan = _plan()
    problems = [p["id"] for p in plan["problems"]]
    assert len(problems) >= 2 and len(plan["concepts"]) == 3

    at(monkeypatch, hours=5)                                                # time away does not count
    refused = drill("hint", problems[0], "--yes")
    assert refused.exit_code == 2 and "mock round in progress" in refused.output
    assert drill("solution", problems[0], "--yes").exit_code == 2
    interrupted = drill("mock", "--resume", input="")                       # the input ends: paused, work kept
    assert interrupted.exit_code == 130 and "45m00s left" in interrupted.output

    fake_grade.append(verdict(problems[0]))
    answers = "\n" + "n\n" * (len(problems) - 1) + "\n1\n" * 3           # each concept: reveal, covered point 1
    resumed = drill("mock", "--resume", input=answers)
    assert resumed.exit_code == 0, resumed.output
    row = _store().mocks()[-1]
    plan = json.loads(row.plan)
    assert row.finished_at is not None and plan["problems"][0]["passed"] == plan["problems"][0]["total"] == 3
    assert all(len(c["covered"]) == 1 for c in plan["concepts"])
    expected = 80 / len(problems) + 20 * 3 / sum(c["points"] for c in plan["concepts"])
    assert row.score == round(expected, 1) and f"mock round: {row.score:.0f} / 100" in resumed.output

    ratings = {r.problem: r.rating for r in _store().reviews()}
    assert all(ratings[p] == int(Rating.Again) for p in problems[1:])       # moved on: due again as Again
    assert ratings[problems[0]] != int(Rating.Again)
    assert drill("hint", problems[0], "--yes").exit_code == 0               # the round is over
    assert "mock rounds" in drill("stats").output
    exported = json.loads(drill("export").output)
    assert exported["mocks"][0]["score"] == row.score and exported["mocks"][0]["plan"]["problems"]


def _session(monkeypatch, script: list[tuple[float, str]]) -> MockSession:
    """A round whose prompts are answered by `script`: (minutes after T0 when answered, answer)."""
    answers = iter(script)

    def ask(*args, **kwargs) -> str:
        minutes, answer = next(answers)
        at(monkeypatch, minutes=minutes)
        return answer

    store, catalog = _store(), Catalog()
    cards = deck(catalog)
    return MockSession(store, catalog, cards, Console(width=100), new_round(store, catalog, cards, 45, None, 7), ask)


def test_the_rounds_clock_stops_while_paused_and_times_each_problem(monkeypatch, fake_grade):
    session = _session(monkeypatch, [(6, "q")])
    session.run()
    assert session.row.used_s == 360 and session.row.resumed_at is None
    at(monkeypatch, hours=8)
    session.row.resumed_at = clock.timestamp()
    later = [(8 * 60 + 10, "")] + [(8 * 60 + 11, "n")] * 5 + [(8 * 60 + 12, "")] * 20
    session.ask = _session(monkeypatch, later).ask
    session.run()
    first = session.plan["problems"][0]
    assert first["elapsed_s"] == 16 * 60                                    # 6 min, a pause of hours, 10 min
    assert session.row.finished_at is not None and session.row.used_s == 18 * 60


def test_a_round_that_runs_out_of_time_goes_to_its_questions(monkeypatch, fake_grade):
    fake_grade += [verdict("x", passed=1)] * 3
    session = _session(monkeypatch, [(10, ""), (50, "")] + [(51, "")] * 20)
    session.run()
    plan = session.plan
    assert plan["problems"][0]["passed"] == 1 and not plan["problems"][1]["attempt"]
    assert session.row.finished_at is not None and all(c["covered"] == [] for c in plan["concepts"])


def test_a_round_fits_its_time_mixes_difficulties_and_prefers_what_was_not_practised():
    import random

    from drillcli.mock import choose_problems

    specs = Catalog().specs()
    recent = {s.id: 1.0e9 for s in specs if s.difficulty == "easy" and s.id != "softmax"}   # all easy ones but one
    for seed in range(5):
        chosen = choose_problems(specs, 50, recent, random.Random(seed))
        assert sum(s.target_minutes for s in chosen) <= 50
        assert {s.difficulty for s in chosen} >= {"easy", "medium"}
        assert [s.id for s in chosen if s.difficulty == "easy"][0] == "softmax"   # the one not practised lately


def test_mock_rejects_other_lengths_and_resume_without_a_round():
    assert drill("mock", "--minutes", "30").exit_code == 2
    assert "no interrupted mock round" in drill("mock", "--resume").output


def test_a_quiz_session_marks_points_rates_and_schedules_its_own_deck(monkeypatch):
    result = drill("quiz", "--family", "attention", "--count", "2", input="\n1 2\n3\n\na\n4\n")
    assert result.exit_code == 0 and "Quiz done" in result.output
    reviews = _store().concept_reviews()
    assert [r["rating"] for r in reviews] == [3, 4] and reviews[1]["points_covered"] == reviews[1]["points_total"]
    assert not _store().cards()                                             # never mixed into problem cards
    at(monkeypatch, days=200)
    status = drill().output
    assert "concept cards due: 2" in status
    again = drill("quiz", "--count", "1", input="q\n")
    assert "Stopped after 0" in again.output


def test_review_offers_the_due_concept_cards_after_the_problems(monkeypatch):
    drill("quiz", "--count", "1", input="\n\n1\n")
    at(monkeypatch, days=30)
    offered = drill("review", input="y\n\n\n2\n")
    assert "1 concept card due too" in offered.output and "Quiz done" in offered.output
    assert [r["rating"] for r in _store().concept_reviews()] == [1, 2]
