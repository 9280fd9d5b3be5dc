"""The practice loop's operations on attempts: start, grade, hint, reveal, give up,
reset, and what to do next. The CLI, watch mode and review sessions all go through
here, so an attempt is recorded the same way whichever command the user types.

An attempt opens with `drill start` (or a review) and closes on its first passing
grade, when given up in a review, or when abandoned by `--fresh` / `reset`. A closed
attempt that passed or failed is a review: it updates the problem's FSRS card.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from drillcli import clock, paths, workspace
from drillcli.catalog import Catalog
from drillcli.spec import DIFFICULTIES, FAMILIES, Spec
from drillcli.store import Attempt, CardRow, GradeRecord, ReviewRecord, Store

if TYPE_CHECKING:
    from drillcli.verdict import Verdict


@dataclass
class Started:
    path: Path
    attempt_id: int
    backup: Path | None     # where an edited file went (--fresh)
    kept: bool              # an edited file was kept as it is
    resumed: bool           # the attempt already in progress goes on


@dataclass
class Graded:
    grade: GradeRecord
    review: ReviewRecord | None    # set when this grade passed and closed the attempt


def start(store: Store, spec: Spec, fresh: bool = False, mode: str = "start") -> Started:
    """Put the stub in place (keeping or backing up the user's edits) and open an attempt.

    Without `fresh`, an attempt already in progress goes on (its timer keeps running);
    with it, that attempt is abandoned (no review) and a new one opens.
    """
    path, moved, kept = workspace.prepare(spec, fresh)
    now = clock.timestamp()
    current = store.open_attempt(spec.id)
    if current is not None and not fresh:
        store.set_current(spec.id)
        return Started(path, current.id, moved, kept, resumed=True)
    if current is not None:
        abandon(store, current)
    attempt_id = store.start_attempt(spec.id, workspace.code_hash(path), now, mode)
    return Started(path, attempt_id, moved, kept, resumed=False)


STALE_AFTER_S = 24 * 3600   # an attempt open this long was left behind, not worked on
HINT_COST = "One hint rates this attempt at most Hard; two or more rate it Again."


def is_stale(attempt: Attempt, now: float | None = None) -> bool:
    """Open far beyond any target: shown as stale, and the next start offers to abandon it."""
    return attempt.is_open and (now if now is not None else clock.timestamp()) - attempt.started_at > STALE_AFTER_S


def abandon(store: Store, attempt: Attempt) -> None:
    """Close an attempt without a review: the schedule is not touched."""
    store.close_attempt(attempt.id, "abandoned", clock.timestamp())


def attempt_for_hint(store: Store, spec: Spec) -> Attempt:
    """The attempt a hint counts against: the one in progress, or a new one."""
    attempt = store.open_attempt(spec.id)
    if attempt is None:
        path = paths.workspace_file(spec.id)
        source = path if path.exists() else workspace.stub_path(spec)
        store.start_attempt(spec.id, workspace.code_hash(source), clock.timestamp())
        attempt = store.open_attempt(spec.id)
    assert attempt is not None
    return attempt


def reveal_hint(store: Store, spec: Spec) -> tuple[list[str], bool]:
    """Record one more hint; returns the hints revealed so far and whether a new one was."""
    attempt = attempt_for_hint(store, spec)
    if attempt.hints_used >= len(spec.hints):
        return list(spec.hints[:attempt.hints_used]), False
    count = store.add_hint(attempt.id)
    return list(spec.hints[:count]), True


def reveal_solution(store: Store, spec: Spec) -> Attempt | None:
    """Count the reference as seen by the attempt in progress (rated Again), and return it.
    With no attempt in progress (solved, or never started) reading it costs nothing and
    opens nothing."""
    attempt = store.open_attempt(spec.id)
    if attempt is not None:
        store.mark_solution_seen(attempt.id)
    return attempt


def record_verdict(store: Store, spec: Spec, verdict: Verdict, path: Path, close_on_pass: bool = True) -> Graded:
    """Keep the grade; a passing grade closes the attempt in progress and reviews its card.

    `close_on_pass=False` (review sessions) leaves the attempt open so that the review
    can wait for the follow-up questions; `finish` closes it then.
    """
    now = clock.timestamp()
    attempt = store.open_attempt(spec.id) or store.latest_attempt(spec.id)
    grade = GradeRecord(
        problem=spec.id, graded_at=now, passed_cases=verdict.passed, total_cases=verdict.total,
        status=verdict.status, code_hash=verdict.code_hash or workspace.code_hash(path), attempt_id=attempt.id if attempt else None,
        elapsed_s=now - attempt.started_at if attempt else None,
        hints_used=attempt.hints_used if attempt else 0, solution_seen=bool(attempt and attempt.solution_seen))
    review = None
    close = bool(attempt and attempt.is_open and verdict.ok and close_on_pass)
    if close:
        review = make_review(store, spec, attempt, grade)
    grade.id = store.record_grade(grade, close=close, review=review)
    return Graded(grade, review)


def make_review(store: Store, spec: Spec, attempt: Attempt, grade: GradeRecord | None,
                self_rating: int | None = None) -> ReviewRecord:
    """The review an attempt closing now amounts to (imports fsrs)."""
    from drillcli import schedule

    now = grade.graded_at if grade else clock.timestamp()
    elapsed = grade.elapsed_s if grade else now - attempt.started_at
    signals = schedule.Signals(passed=bool(grade and grade.passed), elapsed_s=elapsed,
                               target_s=spec.target_minutes * 60, hints_used=attempt.hints_used,
                               solution_seen=attempt.solution_seen, self_rating=self_rating)
    return schedule.review(spec.id, store.card(spec.id), signals, clock.from_timestamp(now), attempt.id,
                           grade.passed_cases if grade else attempt.passed_cases,
                           grade.total_cases if grade else attempt.total_cases)


def finish(store: Store, spec: Spec, attempt_id: int, grade: GradeRecord | None,
           self_rating: int | None = None) -> ReviewRecord:
    """Close an attempt with its review: passed (with `grade`, the passing one) or given up."""
    attempt = store.attempt(attempt_id)
    assert attempt is not None
    review = make_review(store, spec, attempt, grade, self_rating)
    outcome = "passed" if grade is not None and grade.passed else "failed"
    store.close_attempt(attempt_id, outcome, review.reviewed_at, review)
    return review


def reset(store: Store, spec: Spec, history: bool) -> Path | None:
    """Back up and remove the workspace file, abandon the attempt in progress, and with
    `history` forget the problem's attempts, grades, reviews and card."""
    moved = workspace.clear(spec)
    if history:
        store.delete_history(spec.id)
    else:
        current = store.open_attempt(spec.id)
        if current is not None:
            abandon(store, current)
    return moved


def due_cards(store: Store) -> list[CardRow]:
    """Cards due by the end of today, most overdue first."""
    horizon = clock.end_of_day(clock.now()).timestamp()
    return [c for c in store.cards() if c.due_at <= horizon]


def next_problem(store: Store, catalog: Catalog) -> tuple[str, str] | None:
    """(problem id, 'due' | 'new'): the most overdue review, else the easiest unseen problem."""
    known = set(catalog.ids)
    due = [c for c in due_cards(store) if c.problem in known]
    if due:
        return due[0].problem, "due"
    seen = {a.problem for a in store.attempts()}
    unseen = [s for s in catalog.specs() if s.id not in seen]
    unseen.sort(key=lambda s: (DIFFICULTIES.index(s.difficulty), FAMILIES.index(s.family), s.id))
    return (unseen[0].id, "new") if unseen else None


def in_progress(store: Store) -> Attempt | None:
    """The attempt the user is working on: the current problem's open attempt."""
    current = store.current_problem()
    return store.open_attempt(current) if current else None
