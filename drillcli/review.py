"""`drill review`: a session over the problems that are due, most overdue first.

For each: the old file is backed up and a fresh stub written, the timer runs, the user
grades with Enter (as often as needed), and the attempt's review updates the schedule.
A passed problem first asks its follow-up concept questions, shows the reference answers
and takes a self-rating (which can lower the rating, never raise it).

An attempt in progress is resumed, never thrown away: its file and its clock are kept,
and one that already passed (the session was quit during its follow-ups) goes straight
to them. An attempt closed elsewhere (`drill grade` in another terminal) is noticed and
not rated again: one closed attempt, one review.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import typer
from rich.console import Console
from rich.panel import Panel
from rich.text import Text

from drillcli import clock, practice
from drillcli.catalog import Catalog
from drillcli.messages import noun, say
from drillcli.render import (RATING_NAMES, hints_view, prompt, review_line, started_lines, timer_text,
                             verdict_view)
from drillcli.spec import Spec
from drillcli.store import GradeRecord, Store

if TYPE_CHECKING:
    from drillcli.verdict import Verdict
    from drillcli.worker_process import WorkerProcess



def grade_file(spec: Spec, path: Path, worker: WorkerProcess | None = None) -> Verdict:
    """The real grader (tests replace this to avoid running the worker)."""
    from drillcli.runner import grade

    return grade(spec, path, worker=worker)


@dataclass
class Session:
    store: Store
    catalog: Catalog
    console: Console
    ask: Callable[..., str] = typer.prompt
    worker: WorkerProcess | None = None    # a warm grading server shared by the session's grades
    limit: int | None = None               # at most this many problems this session

    def run(self) -> None:
        """The due problems, then an offer to quiz the due concept cards."""
        if self.problems() != "quit":
            self.offer_concepts()

    def offer_concepts(self) -> None:
        from drillcli.deck import DeckError, deck
        from drillcli.quiz import Quiz, due_concepts

        try:
            cards = due_concepts(self.store, deck(self.catalog))
        except DeckError as exc:
            self.console.print(f"[yellow]concept cards unavailable:[/] {exc}")
            return
        if cards and self.ask(say("concepts_offer", cards=noun(len(cards), "card")),
                              default="y").strip().lower().startswith("y"):
            Quiz(self.store, self.console, self.ask).run(cards)

    def problems(self) -> str:
        known = set(self.catalog.ids)
        due = [c for c in practice.due_cards(self.store) if c.problem in known]
        if not due:
            self._nothing_due()
            return "done"
        if self.limit is not None and len(due) > self.limit:
            self.console.print(f"{len(due)} are due; this session takes the {self.limit} most overdue.")
            due = due[:self.limit]
        self.console.print(say("problems_due", problems=noun(len(due), "problem"), names=", ".join(c.problem for c in due)))
        for i, card in enumerate(due, 1):
            spec = self.catalog.spec(card.problem)
            if self.drill(spec, f"{i}/{len(due)}") == "quit":
                self.console.print(say("session_stopped"))
                return "quit"
        self.console.print(say("session_done"))
        return "done"

    def _nothing_due(self) -> None:
        cards = self.store.cards()
        if cards:
            soonest = cards[0]
            self.console.print(f"Nothing is due. Next: {soonest.problem} "
                               f"{clock.relative(soonest.due_at, clock.timestamp())}. `drill next` starts a new problem.")
        else:
            self.console.print("Nothing is due yet: problems join the schedule when you finish them. "
                               "`drill next` starts one.")

    def drill(self, spec: Spec, position: str) -> str:
        """One problem, from a fresh stub (or the attempt in progress) to its review;
        returns 'done', 'skip' or 'quit'."""
        self.console.rule(say("review_rule", position=position, problem=spec.id))
        current = self.store.open_attempt(spec.id)
        passed = self.store.passing_grade(current.id) if current is not None else None
        if current is not None and passed is not None:
            self.console.print(f"{spec.id} already passed in this attempt: its follow-up questions.")
            return self._close_passed(spec, current.id, passed)
        started = practice.start(self.store, spec, fresh=current is None, mode="review")
        self.console.print(prompt(spec))
        for line in started_lines(spec, started, in_review=True):
            self.console.print(line)
        while True:
            choice = self.ask(self._timer_prompt(started.attempt_id, spec), default="", show_default=False)
            choice = choice.strip().lower()
            if choice in ("", "h", "g", "s") and self._closed_elsewhere(spec, started.attempt_id):
                return "done"
            if choice == "":
                if self._grade(spec, started):
                    return "done"
            elif choice == "h":
                self._hint(spec, started.attempt_id)
            elif choice == "g":
                self.console.print(review_line(practice.finish(self.store, spec, started.attempt_id, None)))
                self.console.print(f"`drill solution {spec.id}` shows the reference.")
                return "done"
            elif choice == "s":
                practice.abandon(self.store, self.store.attempt(started.attempt_id))
                return "skip"
            elif choice == "q":
                return "quit"
            else:
                self.console.print(say("review_actions"))

    def _closed_elsewhere(self, spec: Spec, attempt_id: int) -> bool:
        """The attempt was closed by another command (a `drill grade` in another terminal)."""
        attempt = self.store.attempt(attempt_id)
        if attempt is None or attempt.is_open:
            return False
        review = next((r for r in self.store.reviews(spec.id) if r.attempt_id == attempt_id), None)
        self.console.print(f"This attempt was already closed elsewhere ({attempt.outcome}); it is not rated again.")
        if review is not None:
            self.console.print(review_line(review))
        return True

    def _hint(self, spec: Spec, attempt_id: int) -> None:
        """A hint, after saying what the first one costs."""
        attempt = self.store.attempt(attempt_id)
        if attempt is not None and attempt.hints_used == 0 and len(spec.hints):
            answer = self.ask(f"{practice.HINT_COST} Reveal a hint? [y/n]", default="y").strip().lower()
            if not answer.startswith("y"):
                self.console.print("No hint revealed.")
                return
        shown, new = practice.reveal_hint(self.store, spec)
        self.console.print(hints_view(spec, shown, new))

    def _timer_prompt(self, attempt_id: int, spec: Spec) -> str:
        attempt = self.store.attempt(attempt_id)
        assert attempt is not None
        timer = timer_text(clock.timestamp() - attempt.started_at, spec.target_minutes * 60)
        return f"[{timer.plain}] {say('review_actions')}"

    def _grade(self, spec: Spec, started: practice.Started) -> bool:
        """Grade; on a pass ask the follow-ups and close the attempt with its review."""
        verdict = grade_file(spec, started.path, self.worker)
        graded = practice.record_verdict(self.store, spec, verdict, started.path, close_on_pass=False)
        self.console.print(verdict_view(verdict, graded.grade.elapsed_s, spec.target_minutes * 60))
        if not verdict.ok:
            return False
        self._close_passed(spec, started.attempt_id, graded.grade)
        return True

    def _close_passed(self, spec: Spec, attempt_id: int, grade: GradeRecord) -> str:
        """The follow-ups of a passed attempt, then its one review."""
        self_rating = self._followups(spec, attempt_id, grade)
        review = practice.finish(self.store, spec, attempt_id, grade, self_rating)
        self.console.print(review_line(review))
        return "done"

    def _followups(self, spec: Spec, attempt_id: int, grade: GradeRecord) -> int | None:
        """Ask the concept questions, show the answers; the self-rating (1-4), or None if none."""
        if not spec.followups:
            return None
        for i, f in enumerate(spec.followups, 1):
            self.console.print(Text(say("followup", i=i, n=len(spec.followups), q=f.q), style="bold"))
            self.ask(say("answer_then_enter"), default="", show_default=False)
            self.console.print(Panel(f.a, title=say("reference_answer"), title_align="left", border_style="dim"))
        self.console.print(self._rating_preview(spec, attempt_id, grade))
        while True:
            answer = self.ask(say("how_well_followups"), default="3").strip()
            if answer in {"1", "2", "3", "4"}:
                return int(answer)
            self.console.print("type 1, 2, 3 or 4")

    def _rating_preview(self, spec: Spec, attempt_id: int, grade: GradeRecord) -> Text:
        """What each self-rating would give: it can lower the attempt's rating, never raise it."""
        attempt = self.store.attempt(attempt_id)
        assert attempt is not None
        text = Text("Your self-rating can only lower the rating this attempt earned. Each answer gives:\n")
        for value, name in RATING_NAMES.items():
            review = practice.make_review(self.store, spec, attempt, grade, value)
            due = clock.relative(review.due_at, review.reviewed_at)
            text.append(f"  {value} {name:<6} -> rated {RATING_NAMES[review.rating]}, next review about {due}\n")
        return text
