"""`drill stats`: per-problem and per-family summaries, a streak, an activity heatmap,
and one problem's history with a time-to-solve chart. Reads the store only (no torch,
no numpy, no fsrs)."""

from __future__ import annotations

import json
import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from drillcli import clock
from drillcli.clock import duration
from drillcli.render import RATING_NAMES, RATING_STYLE, plural
from drillcli.spec import FAMILIES, Spec
from drillcli.store import Attempt, GradeRecord, MockRow, Store

HEATMAP_WEEKS = 12
HEAT_LEVELS = ((0, "grey23"), (1, "green4"), (3, "green3"), (6, "bright_green"))   # grades a day -> colour
SHADES = "·░▒█"                                                                    # the same levels without colour
CHART_WIDTH = 40


@dataclass
class ProblemSummary:
    spec: Spec
    attempts: int
    best: tuple[int, int] | None        # (passed, total) of the best grade
    median_s: float | None              # median time of the passed attempts
    last_practised: float | None
    next_due: float | None

    @property
    def solved(self) -> bool:
        return self.best is not None and self.best[0] == self.best[1] and self.best[1] > 0


def summaries(store: Store, specs: list[Spec]) -> list[ProblemSummary]:
    """One summary per problem that has been attempted or graded."""
    attempts, grades = _by_problem(store.attempts()), _by_problem(store.grades())
    cards = {c.problem: c for c in store.cards()}
    out = []
    for spec in specs:
        mine, graded = attempts.get(spec.id, []), grades.get(spec.id, [])
        if not mine and not graded:
            continue
        best = max(((g.passed_cases, g.total_cases) for g in graded), key=lambda p: (p[0] / max(p[1], 1), p[1]),
                   default=None)
        times = [a.elapsed_s for a in mine if a.outcome == "passed" and a.elapsed_s is not None]
        moments = [a.started_at for a in mine] + [g.graded_at for g in graded]
        card = cards.get(spec.id)
        out.append(ProblemSummary(spec, len(mine), best, statistics.median(times) if times else None,
                                  max(moments), card.due_at if card else None))
    return out


def _by_problem(items: list) -> dict[str, list]:
    grouped: dict[str, list] = {}
    for item in items:
        grouped.setdefault(item.problem, []).append(item)
    return grouped


def activity(grades: list[GradeRecord]) -> Counter[date]:
    """Grades per local day."""
    return Counter(clock.local_day(g.graded_at) for g in grades)


def streak(days: Counter[date], today: date) -> int:
    """Consecutive days with practice, ending today (or yesterday, if today has none yet)."""
    day = today if days[today] else today - timedelta(days=1)
    count = 0
    while days[day]:
        count += 1
        day -= timedelta(days=1)
    return count


def overview(store: Store, specs: list[Spec]) -> Group:
    rows = summaries(store, specs)
    if not rows:
        return Group(Text("No attempts yet. `drill next` starts your first problem."))
    days = activity(store.grades())
    today = clock.local_day(clock.timestamp())
    mocks = [m for m in store.mocks() if m.finished_at is not None]
    return Group(_problem_table(rows), _family_table(rows, specs), *([_mock_table(mocks)] if mocks else []),
                 Text(f"streak: {plural(streak(days, today), 'day')}  ·  {plural(sum(days.values()), 'grade')} in all",
                      style="bold"),
                 Heatmap(days, today))


def _mock_table(mocks: list[MockRow]) -> Table:
    """Each finished mock round: when, how long, what it held and its score."""
    table = Table(title="mock rounds", title_justify="left")
    for column in ("date", "minutes", "problems solved", "concept points", "score"):
        table.add_column(column, justify="left" if column == "date" else "right")
    for m in mocks:
        plan = json.loads(m.plan)
        solved = sum(p["total"] > 0 and p["passed"] == p["total"] for p in plan["problems"])
        covered = sum(len(c["covered"] or []) for c in plan["concepts"])
        table.add_row(f"{clock.from_timestamp(m.started_at):%Y-%m-%d}", str(m.minutes),
                      f"{solved}/{len(plan['problems'])}", f"{covered}/{sum(c['points'] for c in plan['concepts'])}",
                      f"{m.score:.0f}")
    return table


def _problem_table(rows: list[ProblemSummary]) -> Table:
    now = clock.timestamp()
    table = Table(title="problems", title_justify="left")
    for column in ("problem", "family", "best", "attempts", "median time", "last practised", "next due"):
        table.add_column(column, justify="right" if column in ("best", "attempts") else "left")
    for r in rows:
        best = Text(f"{r.best[0]}/{r.best[1]}", style="green" if r.solved else "red") if r.best else Text("-")
        target = r.spec.target_minutes * 60
        median = (Text(f"{duration(r.median_s)} / {duration(target)}", style="green" if r.median_s <= target
                       else "yellow") if r.median_s is not None else Text(f"- / {duration(target)}", style="dim"))
        due = clock.relative(r.next_due, now) if r.next_due else "-"
        table.add_row(r.spec.id, r.spec.family, best, str(r.attempts), median,
                      clock.relative(r.last_practised, now) if r.last_practised else "-", due)
    return table


def _family_table(rows: list[ProblemSummary], specs: list[Spec]) -> Table:
    table = Table(title="by family", title_justify="left")
    for column in ("family", "tried", "solved", "attempts"):
        table.add_column(column, justify="left" if column == "family" else "right")
    totals = Counter(s.family for s in specs)
    for family in FAMILIES:
        mine = [r for r in rows if r.spec.family == family]
        if mine:
            table.add_row(family, f"{len(mine)}/{totals[family]}", str(sum(r.solved for r in mine)),
                          str(sum(r.attempts for r in mine)))
    return table


def heatmap(days: Counter[date], today: date, weeks: int = HEATMAP_WEEKS, shaded: bool = False) -> Text:
    """Grades per day over the last weeks: one row per weekday, one column per week. Each
    level has its colour; `shaded` draws it with a shade character instead (no colour)."""
    first = today - timedelta(days=today.weekday() + 7 * (weeks - 1))   # a Monday
    text = Text(f"activity, last {weeks} weeks (grades a day)\n", style="bold")
    for weekday in range(7):
        text.append(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[weekday] + " ", style="dim")
        for week in range(weeks):
            day = first + timedelta(days=7 * week + weekday)
            if day > today:
                text.append("  ")
                continue
            level = [i for i, (floor, _) in enumerate(HEAT_LEVELS) if days[day] >= floor][-1]
            text.append(_cell(level, shaded))
        text.append("\n")
    text.append("less ", style="dim")
    for level in range(len(HEAT_LEVELS)):
        text.append(_cell(level, shaded))
    text.append("more", style="dim")
    if shaded:
        floors = [floor for floor, _ in HEAT_LEVELS]
        ranges = [f"{a}" if b - a == 1 else f"{a}-{b - 1}" for a, b in zip(floors, floors[1:])] + [f"{floors[-1]}+"]
        text.append(f"  ({', '.join(f'{SHADES[i]} {r}' for i, r in enumerate(ranges))})", style="dim")
    return text


def _cell(level: int, shaded: bool) -> Text:
    return Text(f"{SHADES[level]} ") if shaded else Text("■ ", style=HEAT_LEVELS[level][1])


class Heatmap:
    """The heatmap as the console can show it: colours, or shades where colour is off (NO_COLOR)."""

    def __init__(self, days: Counter[date], today: date) -> None:
        self.days, self.today = days, today

    def __rich_console__(self, console: Console, options: Any):
        yield heatmap(self.days, self.today, shaded=console.no_color or console.color_system is None)


def problem_view(store: Store, spec: Spec) -> Group:
    """One problem: every attempt, and a chart of the time each pass took."""
    attempts = store.attempts(spec.id)
    if not attempts:
        return Group(Text(f"No attempts at {spec.id} yet. `drill start {spec.id}` begins one."))
    ratings = {r.attempt_id: r.rating for r in store.reviews(spec.id)}
    grades = _by_attempt(store.grades(spec.id))
    card = store.card(spec.id)
    header = Text(f"{spec.title} ({spec.id}) · target {duration(spec.target_minutes * 60)}", style="bold")
    if card:
        header.append(f" · next due {clock.relative(card.due_at, clock.timestamp())}", style="dim")
    return Group(header, _history_table(attempts, grades, ratings), time_chart(attempts, spec.target_minutes * 60))


def _by_attempt(grades: list[GradeRecord]) -> dict[int | None, list[GradeRecord]]:
    grouped: dict[int | None, list[GradeRecord]] = {}
    for g in grades:
        grouped.setdefault(g.attempt_id, []).append(g)
    return grouped


def _history_table(attempts: list[Attempt], grades: dict, ratings: dict[int, int]) -> Table:
    table = Table(title="attempts", title_justify="left")
    for column in ("#", "started", "mode", "outcome", "time", "score", "grades", "hints", "seen", "rating"):
        table.add_column(column)
    for n, a in enumerate(attempts, 1):
        score = f"{a.passed_cases}/{a.total_cases}" if a.total_cases is not None else "-"
        rating = ratings.get(a.id)
        table.add_row(str(n), f"{clock.from_timestamp(a.started_at):%m-%d %H:%M}", a.mode, a.outcome or "open",
                      duration(a.elapsed_s) if a.elapsed_s is not None else "-", score, str(len(grades.get(a.id, []))),
                      str(a.hints_used), "yes" if a.solution_seen else "",
                      Text(RATING_NAMES[rating], style=RATING_STYLE[rating]) if rating else "")
    return table


def time_chart(attempts: list[Attempt], target_s: float) -> Text:
    """Horizontal bars of the time each passed attempt took, against the target (│)."""
    passed = [(n, a) for n, a in enumerate(attempts, 1) if a.outcome == "passed" and a.elapsed_s is not None]
    text = Text(f"time to solve (│ = target {duration(target_s)})\n", style="bold")
    if not passed:
        return text.append("no passed attempt yet", style="dim")
    scale = CHART_WIDTH / max(target_s, *(a.elapsed_s for _, a in passed))
    mark = round(target_s * scale)
    for n, a in passed:
        width = max(1, round(a.elapsed_s * scale))
        bar = ("█" * width).ljust(CHART_WIDTH + 1)
        bar = bar[:mark] + ("│" if width <= mark else bar[mark]) + bar[mark + 1:]
        text.append(f"#{n:<3}")
        text.append(bar, style="green" if a.elapsed_s <= target_s else "yellow")
        text.append(f" {duration(a.elapsed_s)}\n")
    return text
