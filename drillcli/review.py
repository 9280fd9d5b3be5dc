"""`drill review`: a session over the problems that are due, most overdue first.

For each: the old file is backed up and a fresh stub written, the timer runs, the user
grades (as often as needed), and the attempt's review updates the schedule. A passed
problem first asks its follow-up concept questions, shows the reference answers and
takes a self-rating (which can lower the rating, never raise it).
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
from drillcli.render import RATING_NAMES, hints_view, prompt, review_line, started_lines, timer_text, verdict_view
from drillcli.spec import Spec
from drillcli.store import Store

if TYPE_CHECKING:
    from drillcli.verdict import Verdict
    from drillcli.worker_process import WorkerProcess

ACTIONS = "Enter grade · h hint · g give up (Again) · s skip · q quit"


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

    def run(self) -> None:
        known = set(self.catalog.ids)
        due = [c for c in practice.due_cards(self.store) if c.problem in known]
        if not due:
            self._nothing_due()
            return
        self.console.print(f"[bold]{len(due)} problem(s) due[/]: {', '.join(c.problem for c in due)}")
        for i, card in enumerate(due, 1):
            spec = self.catalog.spec(card.problem)
            if self.drill(spec, f"{i}/{len(due)}") == "quit":
                self.console.print("Stopped. The attempt in progress stays open: `drill grade` still records it, "
                                   "`drill review` starts again with what is left.")
                return
        self.console.print("[bold green]Session done.[/] `drill stats` shows where you stand.")

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
        """One problem, from a fresh stub to its review; returns 'done', 'skip' or 'quit'."""
        started = practice.start(self.store, spec, fresh=True, mode="review")
        self.console.rule(f"review {position}: {spec.id}")
        self.console.print(prompt(spec))
        for line in started_lines(spec, started):
            self.console.print(line)
        while True:
            choice = self.ask(self._timer_prompt(started.attempt_id, spec), default="", show_default=False)
            choice = choice.strip().lower()
            if choice == "":
                if self._grade(spec, started):
                    return "done"
            elif choice == "h":
                shown, new = practice.reveal_hint(self.store, spec)
                self.console.print(hints_view(spec, shown, new))
            elif choice == "g":
                self.console.print(review_line(practice.finish(self.store, spec, started.attempt_id, None)))
                self.console.print(f"`drill solution {spec.id}` shows the reference.")
                return "done"
            elif choice == "s":
                self.store.close_attempt(started.attempt_id, "abandoned", clock.timestamp())
                return "skip"
            elif choice == "q":
                return "quit"
            else:
                self.console.print(ACTIONS)

    def _timer_prompt(self, attempt_id: int, spec: Spec) -> str:
        attempt = self.store.attempt(attempt_id)
        assert attempt is not None
        timer = timer_text(clock.timestamp() - attempt.started_at, spec.target_minutes * 60)
        return f"[{timer.plain}] {ACTIONS}"

    def _grade(self, spec: Spec, started: practice.Started) -> bool:
        """Grade; on a pass ask the follow-ups and close the attempt with its review."""
        verdict = grade_file(spec, started.path, self.worker)
        graded = practice.record_verdict(self.store, spec, verdict, started.path, close_on_pass=False)
        self.console.print(verdict_view(verdict, graded.grade.elapsed_s, spec.target_minutes * 60))
        if not verdict.ok:
            return False
        self_rating = self._followups(spec)
        review = practice.finish(self.store, spec, started.attempt_id, graded.grade, self_rating)
        self.console.print(review_line(review))
        return True

    def _followups(self, spec: Spec) -> int | None:
        """Ask the concept questions, show the answers; the self-rating (1-4), or None if none."""
        if not spec.followups:
            return None
        for i, f in enumerate(spec.followups, 1):
            self.console.print(Text(f"follow-up {i}/{len(spec.followups)}: {f.q}", style="bold"))
            self.ask("Answer it (aloud or typed), then press Enter for the reference answer",
                     default="", show_default=False)
            self.console.print(Panel(f.a, title="reference answer", title_align="left", border_style="dim"))
        scale = " · ".join(f"{k} {v}" for k, v in RATING_NAMES.items())
        while True:
            answer = self.ask(f"How well did you know these? ({scale})", default="3").strip()
            if answer in {"1", "2", "3", "4"}:
                return int(answer)
            self.console.print("type 1, 2, 3 or 4")
