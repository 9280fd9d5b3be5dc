"""Spaced repetition with FSRS (the `fsrs` package): one card per problem, and the one
place where an attempt becomes a rating.

Settings suit half-hour coding problems rather than flashcards: no minute-long
learning or relearning steps (a problem is reviewed at most once a day), desired
retention 0.9, intervals capped at about half a year (an interview horizon), fuzzing
on for users and off when DRILL_FUZZ=0 (tests).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import datetime

from fsrs import Card, Rating, ReviewLog, Scheduler

from drillcli.store import CardRow, ConceptCardRow, ReviewRecord

DESIRED_RETENTION = 0.9
MAXIMUM_INTERVAL_DAYS = 183


@dataclass(frozen=True)
class Signals:
    """What an attempt showed, kept raw with every review."""

    passed: bool
    elapsed_s: float | None
    target_s: float
    hints_used: int
    solution_seen: bool
    self_rating: int | None = None   # 1..4 on the follow-up questions, None when not asked


def rating_for(s: Signals) -> Rating:
    """THE attempt -> rating mapping (documented in README.md, "Spaced repetition").

    Only Again counts as forgetting in FSRS, and calling a failure Hard would inflate
    every later interval, so anything short of writing it unaided is Again:

    - failed, solution revealed, or two or more hints -> Again
    - passed with one hint, or over the target time   -> Hard
    - passed within the target time, no hints          -> Good, Easy when under half the target

    A self-rating on the follow-up questions can lower the result, never raise it.
    """
    elapsed = s.elapsed_s if s.elapsed_s is not None else s.target_s
    if not s.passed or s.solution_seen or s.hints_used >= 2:
        rating = Rating.Again
    elif s.hints_used == 1 or elapsed > s.target_s:
        rating = Rating.Hard
    elif elapsed < s.target_s / 2:
        rating = Rating.Easy
    else:
        rating = Rating.Good
    if s.self_rating is not None:
        rating = Rating(min(rating.value, s.self_rating))
    return rating


def fuzzing() -> bool:
    return os.environ.get("DRILL_FUZZ", "1") != "0"


def scheduler() -> Scheduler:
    return Scheduler(desired_retention=DESIRED_RETENTION, learning_steps=(), relearning_steps=(),
                     maximum_interval=MAXIMUM_INTERVAL_DAYS, enable_fuzzing=fuzzing())


def card_id(problem: str) -> int:
    """A stable card id derived from the problem id (48 bits: safe in JSON everywhere)."""
    return int.from_bytes(hashlib.sha256(problem.encode()).digest()[:6], "big")


def review(problem: str, stored: CardRow | None, signals: Signals, when: datetime,
           attempt_id: int | None = None, passed_cases: int | None = None,
           total_cases: int | None = None) -> ReviewRecord:
    """Review the problem's card (a new one if it has none) and return what to store."""
    card = Card.from_json(stored.card) if stored else Card(card_id=card_id(problem), due=when)
    rating = rating_for(signals)
    card, _ = scheduler().review_card(card, rating, when)
    return ReviewRecord(problem=problem, attempt_id=attempt_id, reviewed_at=when.timestamp(), passed=signals.passed,
                        passed_cases=passed_cases, total_cases=total_cases, elapsed_s=signals.elapsed_s,
                        target_s=signals.target_s, hints_used=signals.hints_used, solution_seen=signals.solution_seen,
                        self_rating=signals.self_rating, rating=int(rating), due_at=card.due.timestamp(),
                        card_id=card.card_id, card=card.to_json())


def rebuild(reviews: list[ReviewRecord]) -> list[CardRow]:
    """Every card replayed from the stored raw signals through the current mapping,
    so that a changed mapping or setting reschedules the whole history."""
    from drillcli.clock import from_timestamp

    by_problem: dict[str, list[ReviewRecord]] = {}
    for r in reviews:
        by_problem.setdefault(r.problem, []).append(r)
    cards = []
    for problem, items in sorted(by_problem.items()):
        logs = [ReviewLog(card_id(problem), rating_for(_signals(r)), from_timestamp(r.reviewed_at), None)
                for r in items]
        card = scheduler().reschedule_card(Card(card_id=card_id(problem)), logs)
        cards.append(CardRow(problem, card.card_id, card.to_json(), card.due.timestamp(),
                             max(r.reviewed_at for r in items)))
    return cards


def _signals(r: ReviewRecord) -> Signals:
    return Signals(r.passed, r.elapsed_s, r.target_s, r.hints_used, r.solution_seen, r.self_rating)


def review_concept(card: str, stored: ConceptCardRow | None, rating: int, when: datetime) -> ConceptCardRow:
    """A concept card's next schedule after a self-rating 1-4 (a new card if it has none)."""
    fsrs_card = Card.from_json(stored.fsrs) if stored else Card(card_id=card_id(f"concept:{card}"), due=when)
    fsrs_card, _ = scheduler().review_card(fsrs_card, Rating(rating), when)
    return ConceptCardRow(card, fsrs_card.to_json(), fsrs_card.due.timestamp(), when.timestamp())
