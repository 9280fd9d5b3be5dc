"""`drill mock`: a mock interview round. One clock; coding problems that fit the time, mixing
difficulties and preferring problems not practised lately; then a few concept questions;
no hints and no solutions while it runs. The report scores it out of 100.

The round is stored as it goes (its plan holds what was done), so an interrupted round
keeps its work and `drill mock --resume` continues it within the time that was left: the
clock stops while the round is paused.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from drillcli import clock, practice
from drillcli.catalog import Catalog
from drillcli.deck import Card
from drillcli.messages import say
from drillcli.render import prompt, verdict_view
from drillcli.spec import Spec
from drillcli.store import MockRow, Store

if TYPE_CHECKING:
    from drillcli.worker_process import WorkerProcess

LENGTHS = (45, 60, 90)
CONCEPT_QUESTIONS = {45: 3, 60: 4, 90: 5}
CONCEPT_MINUTES = 2            # the time a concept question is given in the plan
CODING_POINTS = 80             # the concepts get the rest of 100 (all of it goes to coding without them)
DIFFICULTY_ORDER = ("medium", "easy", "hard")   # the mix a round is filled in, round robin


def last_practised(store: Store) -> dict[str, float]:
    out: dict[str, float] = {}
    for a in store.attempts():
        out[a.problem] = max(out.get(a.problem, 0.0), a.started_at)
    return out


def choose_problems(specs: list[Spec], budget_min: float, recent: dict[str, float], rng: random.Random) -> list[Spec]:
    """Problems whose targets fit `budget_min`, difficulties taken in turn, each turn the least
    recently practised (never practised first) of that difficulty; at least one problem."""
    pool = sorted(specs, key=lambda s: (recent.get(s.id, 0.0), rng.random()))
    chosen: list[Spec] = []
    left = budget_min
    while True:
        for difficulty in DIFFICULTY_ORDER:
            fits = [s for s in pool if s.difficulty == difficulty and s.target_minutes <= left and s not in chosen]
            if fits:
                chosen.append(fits[0])
                left -= fits[0].target_minutes
        if not any(s.target_minutes <= left and s not in chosen for s in pool):
            break
    return chosen or sorted(specs, key=lambda s: s.target_minutes)[:1]


def choose_concepts(problems: list[Spec], deck: list[Card], count: int, family: str | None,
                    rng: random.Random) -> list[Card]:
    """A follow-up of each chosen problem (leaving room for at least one standalone card), then
    standalone cards of the family."""
    followups = [c for spec in problems for c in deck if c.id.startswith(f"{spec.id}#")]
    rng.shuffle(followups)
    standalone = [c for c in deck if "#" not in c.id and (family is None or c.family == family)]
    rng.shuffle(standalone)
    picked: list[Card] = []
    for spec in problems:
        own = next((c for c in followups if c.id.startswith(f"{spec.id}#") and c.points), None)
        if own is not None and len(picked) < count - 1:
            picked.append(own)
    return picked + [c for c in standalone if c.points][:count - len(picked)]


def new_round(store: Store, catalog: Catalog, deck: list[Card], minutes: int, family: str | None,
              seed: int) -> MockRow:
    rng = random.Random(seed)
    specs = [s for s in catalog.specs() if family is None or s.family == family]
    n_concepts = CONCEPT_QUESTIONS[minutes]
    problems = choose_problems(specs, minutes - n_concepts * CONCEPT_MINUTES, last_practised(store), rng)
    concepts = choose_concepts(problems, deck, n_concepts, family, rng)
    plan = {"problems": [{"id": s.id, "attempt": None, "passed": 0, "total": 0, "elapsed_s": None, "done": False,
                          "began_s": None} for s in problems],
            "concepts": [{"card": c.id, "covered": None, "points": len(c.points)} for c in concepts]}
    now = clock.timestamp()
    row = MockRow(None, now, minutes, seed, family, json.dumps(plan), 0.0, now)
    row.id = store.add_mock(row)
    return row


def unfinished(store: Store) -> MockRow | None:
    return next((m for m in reversed(store.mocks()) if m.finished_at is None), None)


def problems_of(row: MockRow) -> list[str]:
    return [p["id"] for p in json.loads(row.plan)["problems"]]


def on_clock(row: MockRow, now: float) -> float:
    """The round's own clock: seconds it has run, pauses excluded."""
    return row.used_s + (now - row.resumed_at if row.resumed_at is not None else 0.0)


def seconds_left(row: MockRow, now: float) -> float:
    return row.minutes * 60 - on_clock(row, now)


def score(plan: dict[str, Any], targets: dict[str, float]) -> dict[str, float]:
    """Coding: each problem's share of the coding points times its fraction of cases passed,
    and a solved problem over its target loses up to half (target / time). Concepts: the
    fraction of key points covered."""
    problems = plan["problems"]
    coding_points = CODING_POINTS if plan["concepts"] else 100
    per = coding_points / max(len(problems), 1)
    coding = 0.0
    for p in problems:
        fraction = p["passed"] / p["total"] if p["total"] else 0.0
        if fraction == 1.0 and p["elapsed_s"]:
            fraction *= max(0.5, min(1.0, targets.get(p["id"], p["elapsed_s"]) / p["elapsed_s"]))
        coding += per * fraction
    total = sum(c["points"] for c in plan["concepts"])
    covered = sum(len(c["covered"] or []) for c in plan["concepts"])
    concepts = (100 - coding_points) * covered / total if total else 0.0
    return {"coding": round(coding, 1), "concepts": round(concepts, 1), "total": round(coding + concepts, 1)}


@dataclass
class MockSession:
    store: Store
    catalog: Catalog
    deck: list[Card]
    console: Console
    row: MockRow
    ask: Callable[..., str] = typer.prompt
    worker: WorkerProcess | None = None

    @property
    def plan(self) -> dict[str, Any]:
        return json.loads(self.row.plan)

    def save(self, plan: dict[str, Any]) -> None:
        self.row.plan = json.dumps(plan)
        self.store.save_mock(self.row)

    def run(self) -> None:
        """The round from where it stands; Ctrl-C or the end of input pauses it."""
        try:
            self.rounds()
        except (KeyboardInterrupt, EOFError, typer.Abort):
            self.console.print()
            self.pause()
            raise typer.Exit(130) from None

    def rounds(self) -> None:
        plan = self.plan
        self.console.print(Text(say("mock_intro", minutes=self.row.minutes, count=len(plan["problems"]),
                                    names=", ".join(p["id"] for p in plan["problems"]),
                                    questions=len(plan["concepts"])), style="bold"))
        for i, item in enumerate(plan["problems"]):
            if item["done"]:
                continue
            if seconds_left(self.row, clock.timestamp()) <= 0:
                break
            if self.problem(plan, i) == "pause":
                return self.pause()
        if self.concepts(plan) == "pause":
            return self.pause()
        self.finish(plan)

    def pause(self) -> None:
        now = clock.timestamp()
        self.row.used_s += now - (self.row.resumed_at or now)
        self.row.resumed_at = None
        self.store.save_mock(self.row)
        left = max(0.0, self.row.minutes * 60 - self.row.used_s)
        self.console.print(say("mock_paused", left=clock.duration(left)))

    def problem(self, plan: dict[str, Any], index: int) -> str:
        """One coding problem until it passes, the user moves on or time is up; 'pause' on q."""
        item = plan["problems"][index]
        spec = self.catalog.spec(item["id"])
        self.console.rule(say("mock_problem", i=index + 1, n=len(plan["problems"]), problem=spec.id,
                              minutes=f"{spec.target_minutes:g}"))
        started = practice.start(self.store, spec, fresh=item["attempt"] is None, mode="mock")
        item["attempt"] = started.attempt_id
        if item["began_s"] is None:
            item["began_s"] = on_clock(self.row, clock.timestamp())
        self.save(plan)
        self.console.print(prompt(spec))
        self.console.print(say("mock_edit", path=started.path))
        while True:
            left = seconds_left(self.row, clock.timestamp())
            if left <= 0:
                self.console.print(say("time_up"))
                return "time"
            choice = self.ask(f"[{clock.duration(left)}] {say('mock_actions')}", default="", show_default=False)
            choice = choice.strip().lower()
            if choice == "q":
                return "pause"
            if choice == "n":
                item["done"] = True
                self.save(plan)
                return "next"
            if choice == "" and self.grade(spec, item, started.path):
                item["done"] = True
                self.save(plan)
                return "passed"
            if choice not in ("", "n", "q"):
                self.console.print(say("mock_actions"))

    def grade(self, spec: Spec, item: dict[str, Any], path) -> bool:
        from drillcli.review import grade_file

        attempt = self.store.attempt(item["attempt"])
        if attempt is not None and not attempt.is_open:       # graded and closed by `drill grade` elsewhere
            best = self.store.passing_grade(attempt.id)
            if best is not None:
                item.update(passed=best.passed_cases, total=best.total_cases,
                            elapsed_s=on_clock(self.row, best.graded_at) - item["began_s"])
                return True
        verdict = grade_file(spec, path, self.worker)
        practice.record_verdict(self.store, spec, verdict, path)
        spent = on_clock(self.row, clock.timestamp()) - item["began_s"]   # the round's clock: pauses excluded
        if verdict.passed >= item["passed"]:
            item.update(passed=verdict.passed, total=verdict.total, elapsed_s=spent)
        self.console.print(verdict_view(verdict, spent, spec.target_minutes * 60))
        return verdict.ok

    def concepts(self, plan: dict[str, Any]) -> str:
        from drillcli.quiz import QUIT, Quiz

        quiz = Quiz(self.store, self.console, self.ask)
        by_id = {c.id: c for c in self.deck}
        for n, item in enumerate(plan["concepts"], 1):
            if item["covered"] is not None or item["card"] not in by_id:
                continue
            self.console.rule(say("mock_question", i=n, n=len(plan["concepts"])))
            covered = quiz.covered(by_id[item["card"]])
            if covered == QUIT:
                return "pause"
            item["covered"] = covered
            self.save(plan)
        return "done"

    def finish(self, plan: dict[str, Any]) -> None:
        """Close the round: problems not passed are rescheduled as Again; score and report."""
        for item in plan["problems"]:
            attempt = self.store.attempt(item["attempt"]) if item["attempt"] else None
            if attempt is not None and attempt.is_open:
                practice.finish(self.store, self.catalog.spec(item["id"]), attempt.id, None)
        now = clock.timestamp()
        self.row.used_s += now - (self.row.resumed_at or now)
        self.row.resumed_at, self.row.finished_at = None, now
        targets = {p["id"]: self.catalog.spec(p["id"]).target_minutes * 60 for p in plan["problems"]}
        self.row.score = score(plan, targets)["total"]
        self.save(plan)
        self.console.print(report(self.row, plan, targets))


def report(row: MockRow, plan: dict[str, Any], targets: dict[str, float]) -> Table:
    points = score(plan, targets)
    table = Table(title=f"mock round: {points['total']:.0f} / 100", title_justify="left", show_edge=False)
    for column in ("part", "result", "time / target", "points"):
        table.add_column(column)
    coding_points = CODING_POINTS if plan["concepts"] else 100
    for p in plan["problems"]:
        cases = f"{p['passed']}/{p['total']} cases" if p["total"] else "not graded"
        time = f"{clock.duration(p['elapsed_s'])} / {clock.duration(targets[p['id']])}" if p["elapsed_s"] else ""
        table.add_row(p["id"], cases, time, "")
    table.add_row("coding", "", "", f"{points['coding']:.1f} / {coding_points}", style="bold")
    if plan["concepts"]:
        covered = sum(len(c["covered"] or []) for c in plan["concepts"])
        total = sum(c["points"] for c in plan["concepts"])
        table.add_row("concepts", f"{covered}/{total} key points", "", f"{points['concepts']:.1f} / "
                      f"{100 - coding_points}", style="bold")
    table.caption = f"{clock.duration(row.used_s)} used of {row.minutes} min. Problems not passed are due again (Again)."
    return table
