"""How problems and verdicts look in the terminal (rich)."""

from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from rich.console import Console, Group
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from drillcli import clock
from drillcli.clock import duration
from drillcli.messages import noun, say
from drillcli.spec import Spec
from drillcli.verdict import CaseResult, Verdict

if TYPE_CHECKING:
    from drillcli.practice import Started
    from drillcli.store import Attempt, CardRow, ReviewRecord

STATUS_STYLE = {"pass": "green", "fail": "red", "error": "red", "not_run": "dim"}


def prompt(spec: Spec) -> Panel:
    title = f"[bold]{spec.title}[/]  [dim]{spec.id} · {spec.family} · {spec.difficulty} · {spec.target_minutes:g} min[/]"
    return Panel(_markdown()(spec.prompt), title=title, title_align="left")


@lru_cache(maxsize=None)
def _markdown() -> type:
    """rich's Markdown whose table cells fold a long run without spaces (a Chinese sentence)
    onto the next line instead of cutting it with an ellipsis. Built on first use:
    markdown-it is slow to import and only `show`/`start` need it."""
    from rich.markdown import Markdown, TableElement

    class FoldingTable(TableElement):
        def __rich_console__(self, console: Console, options: Any) -> Any:
            rows = ([self.header.row] if self.header is not None and self.header.row is not None else []) + \
                (self.body.rows if self.body is not None else [])
            for row in rows:
                for cell in row.cells:
                    cell.content.overflow = "fold"
            yield from super().__rich_console__(console, options)

    return type("PromptMarkdown", (Markdown,), {"elements": {**Markdown.elements, "table_open": FoldingTable}})


def prompt_markdown(spec: Spec) -> str:
    """The prompt as the Markdown file `drill start` writes beside the stub."""
    return f"# {spec.title}\n\n{spec.id} · {spec.family} · {spec.difficulty} · target {spec.target_minutes:g} min\n\n" \
           f"{spec.prompt.rstrip()}\n"


def print_paged(console: Console, renderable: Any) -> None:
    """Print, through the pager (rich's, i.e. $PAGER or less) when on a terminal and taller
    than it: long text scrolls instead of running off the top."""
    if console.is_terminal and len(console.render_lines(renderable, pad=False)) > console.height:
        with console.pager():
            console.print(renderable)
    else:
        console.print(renderable)


@contextmanager
def working(message: str) -> Iterator[None]:
    """A spinner on stderr while something slow runs, on a terminal only."""
    err = Console(stderr=True)
    if not err.is_terminal:
        yield
        return
    with err.status(message):
        yield


def _err(x: float | None) -> str:
    return "" if x is None else f"{x:.2e}"


def _result_label(c: CaseResult) -> str:
    """pass / FAIL for a wrong value / FAIL <what> for wrong structure / the error itself."""
    if c.status == "pass":
        return "pass"
    if c.status == "not_run":
        return "not run"
    if c.status == "fail":
        return "FAIL" if c.kind in ("", "value") else f"FAIL {c.kind}"
    return (c.kind or "error").replace("_", " ")


class CaseTable:
    """The table of cases, sized when printed: names and shapes wrap (never cut) where the
    terminal is too narrow to show them beside both error columns; below COMPACT columns the
    inputs go under the case name, so the error columns always stay."""

    NARROW = 100  # below this, case 20 + inputs 18 + result 15 + two errors 8 + padding fit in 80
    COMPACT = 76  # below this, inputs move under the case name

    def __init__(self, verdict: Verdict) -> None:
        self.verdict = verdict

    def __rich_console__(self, console: Console, options: Any):
        width = options.max_width
        compact = width < self.COMPACT
        table = Table(title_justify="left", show_edge=False, padding=(0, 1 if width >= 50 else 0))
        if compact:
            table.add_column("case / inputs", overflow="fold", ratio=1)
        else:
            narrow = width < self.NARROW
            table.add_column("case", overflow="fold", max_width=20 if narrow else 40)
            table.add_column("inputs", style="dim", overflow="fold", max_width=18 if narrow else 40)
        table.add_column("result", overflow="fold", min_width=7, max_width=None if not compact else 10)
        table.add_column("abs err", justify="right", no_wrap=True, min_width=8)
        table.add_column("rel err", justify="right", no_wrap=True, min_width=8)
        for c in self.verdict.cases:
            label = Text(_result_label(c), style=STATUS_STYLE[c.status])
            where = [Text(c.name).append(f"\n{c.shapes}", style="dim")] if compact and c.shapes else \
                [Text(c.name)] if compact else [c.name, c.shapes]
            table.add_row(*where, label, _err(c.max_abs), _err(c.max_rel))
        yield table


def _message_and_detail(message: str, detail: str) -> Text:
    """The message, then the detail, without saying the same line twice (a traceback
    ends with the exception line that is also the message)."""
    if not detail or detail.strip() == message.strip():
        return Text(message)
    if message.strip() in detail:
        return Text(detail)
    return Text(f"{message}\n{detail}")


def _case_body(case: CaseResult) -> Text:
    """What went wrong in one case, what the case checks, and what the code returned."""
    body = _message_and_detail(case.message, case.detail)
    if case.note:
        body.append("\ncase: ", style="bold").append(case.note)
    if case.returned:
        body.append("\nyou returned ", style="dim").append(case.returned, style="dim")
    return body


def _failure_panel(verdict: Verdict) -> Panel | None:
    if verdict.message or verdict.detail and not verdict.cases:
        body = _message_and_detail(verdict.message, verdict.detail)
        return Panel(body, title=f"[red]{verdict.explanation}[/]", title_align="left", border_style="red")
    first = verdict.first_failure()
    if first is None:
        return None
    body = _case_body(first)
    if verdict.near_miss:   # what explains every failing case comes before the one case shown
        body = Text(verdict.near_miss + "\n", style="bold yellow").append_text(body)
    return Panel(body, title=f"[red]failure: {first.name}[/]", title_align="left", border_style="red")


def _other_failures(verdict: Verdict) -> Group | None:
    """One row per other failing case that says what it checks, so the rule that breaks is in
    view; cases that fail with the very message of the panel add nothing and are left out."""
    shown = verdict.first_failure()
    cases = [c for c in verdict.failures() if c is not shown and c.note and c.message != shown.message]
    if not cases or verdict.message or verdict.status == "not_implemented":
        return None
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="red", max_width=40, overflow="fold")
    grid.add_column(style="dim", ratio=1, overflow="fold")
    for c in cases:
        grid.add_row(c.name, c.note)
    return Group(Text("also failing:", style="bold"), Padding(grid, (0, 0, 0, 2)))


class Summary:
    """The closing line, phrase by phrase: a phrase that does not fit on the line goes whole
    to the next one, so no phrase is broken in the middle."""

    def __init__(self, phrases: list[Text]) -> None:
        self.phrases = phrases

    def __rich_console__(self, console: Console, options: Any):
        line, sep = Text(), Text("  ·  ")
        for phrase in self.phrases:
            if line and line.cell_len + sep.cell_len + phrase.cell_len > options.max_width:
                yield line
                line = Text()
            line = line + sep + phrase if line else phrase.copy()
        yield line


def _summary(verdict: Verdict, elapsed_s: float | None, target_s: float | None) -> Summary:
    style = "bold green" if verdict.ok else "bold red"
    if not verdict.total:
        phrases = [Text(say("not_run", why=verdict.explanation), style=style)]
    else:
        phrases = [Text(say("cases_passed", passed=verdict.passed, total=verdict.total), style=style)]
        if not verdict.ok:
            phrases.append(Text(verdict.explanation, style="red"))
    if elapsed_s is not None:
        clock_text = Text(say("since_start", elapsed=duration(elapsed_s)), style="dim")
        if target_s is not None:
            clock_text.append(say("target", target=duration(target_s)), style="dim" if elapsed_s <= target_s else "yellow")
        phrases.append(clock_text)
    return Summary(phrases)


def verdict_view(verdict: Verdict, elapsed_s: float | None = None, target_s: float | None = None) -> Group:
    parts: list = []
    if verdict.cases and verdict.status != "not_implemented":  # a table of identical errors says nothing
        parts.append(CaseTable(verdict))
    for part in (_failure_panel(verdict), _other_failures(verdict)):
        if part is not None:
            parts.append(part)
    if verdict.output and not verdict.ok:
        more = f" (of {verdict.printed_bytes} bytes)" if verdict.printed_bytes > len(verdict.output) else ""
        parts.append(Panel(Text(verdict.output.rstrip()[-2000:]), title=f"your code printed{more}",
                           title_align="left", border_style="dim"))
    parts.append(_summary(verdict, elapsed_s, target_s))
    return Group(*parts)


def verdict_document(verdict: Verdict, elapsed_s: float | None) -> dict[str, Any]:
    """`drill grade --json`: one document for editors and scripts."""
    return {
        "problem": verdict.problem,
        "status": verdict.status,
        "ok": verdict.ok,
        "explanation": verdict.explanation,
        "message": verdict.message,
        "near_miss": verdict.near_miss,
        "score": {"passed": verdict.passed, "total": verdict.total,
                  "fraction": verdict.passed / verdict.total if verdict.total else 0.0},
        "elapsed_s": elapsed_s,
        "cases": [{"name": c.name, "status": c.status, "kind": c.kind, "message": c.message, "shapes": c.shapes,
                   "errors": {"max_abs": c.max_abs, "max_rel": c.max_rel}} for c in verdict.cases],
    }


def console() -> Console:
    return Console(highlight=False)


RATING_NAMES = {1: "Again", 2: "Hard", 3: "Good", 4: "Easy"}
RATING_STYLE = {1: "red", 2: "yellow", 3: "green", 4: "bold green"}


def plural(n: int, word: str) -> str:
    """'1 hint', '2 hints', '0 hints'."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def started_lines(spec: Spec, started: Started, in_review: bool = False) -> list[str]:
    """What `drill start` (or a review, where Enter grades) tells the user to do next."""
    lines = []
    if started.backup is not None:
        lines.append(say("backed_up", path=started.backup))
    if started.kept:
        lines.append(say("kept", path=started.path))
    if started.resumed:
        lines.append(say("resumed"))
    then = say("then_enter") if in_review else say("then_grade")
    lines.append(say("edit_then", path=started.path, then=then, minutes=f"{spec.target_minutes:g}"))
    return lines


def review_line(review: ReviewRecord) -> Text:
    """What the schedule made of a closed attempt."""
    line = Text(say("rated"))
    line.append(RATING_NAMES[review.rating], style=RATING_STYLE[review.rating])
    line.append(say("next_review", date=f"{clock.from_timestamp(review.due_at):%Y-%m-%d}",
                    relative=clock.relative(review.due_at, review.reviewed_at)), style="dim")
    return line


def timer_text(elapsed_s: float, target_s: float) -> Text:
    """12m05s / 10m00s, yellow once over the target."""
    return Text(f"{duration(elapsed_s)} / {duration(target_s)}", style="yellow" if elapsed_s > target_s else "cyan")


def hints_view(spec: Spec, shown: list[str], new: bool) -> Group:
    parts: list = [Text(f"hint {i}/{len(spec.hints)}: {h}", style="bold" if i == len(shown) and new else "dim")
                   for i, h in enumerate(shown, 1)]
    if not spec.hints:
        parts.append(Text(f"{spec.id} has no hints. `drill solution {spec.id}` shows the reference."))
    elif not new:
        parts.append(Text(f"no more hints. `drill solution {spec.id}` shows the reference.", style="yellow"))
    return Group(*parts)


def code_view(path: Path, title: str) -> Panel:
    from rich.syntax import Syntax

    return Panel(Syntax(path.read_text(encoding="utf-8"), "python", line_numbers=True, word_wrap=True),
                 title=title, title_align="left")


def diff_view(mine: Path, reference: Path) -> Panel:
    import difflib

    from rich.syntax import Syntax

    lines = difflib.unified_diff(mine.read_text(encoding="utf-8").splitlines(keepends=True),
                                 reference.read_text(encoding="utf-8").splitlines(keepends=True),
                                 fromfile=f"yours: {mine}", tofile="reference")
    text = "".join(lines) or "identical to the reference\n"
    return Panel(Syntax(text, "diff", word_wrap=True), title="your file vs the reference", title_align="left")


def schedule_table(cards: list[CardRow], targets: dict[str, float]) -> Table | Text:
    """`drill review --list`: every card, soonest due first."""
    if not cards:
        return Text("Nothing scheduled yet: a problem joins the review schedule when you first finish it.")
    now = clock.timestamp()
    horizon = clock.end_of_day(clock.now()).timestamp()
    table = Table(title="review schedule", title_justify="left")
    for column in ("problem", "due", "when", "last practised"):
        table.add_column(column)
    for c in cards:
        style = "bold red" if c.due_at <= now else "yellow" if c.due_at <= horizon else ""
        when = "due now" if c.due_at <= now else clock.relative(c.due_at, now)
        unknown = "" if c.problem in targets else " (not in the catalog)"
        last = clock.relative(c.last_review_at, now) if c.last_review_at else ""
        table.add_row(c.problem + unknown, f"{clock.from_timestamp(c.due_at):%Y-%m-%d %H:%M}",
                      Text(when, style=style), last)
    return table


def status_view(attempt: Attempt | None, due: list[CardRow], upcoming: tuple[str, str] | None,
                targets: dict[str, float], concepts_due: int = 0) -> Group:
    """Plain `drill`: where the user stands and the next command to type."""
    parts: list = []
    now = clock.timestamp()
    from drillcli.practice import is_stale

    if attempt is not None and is_stale(attempt, now):
        parts.append(Text(f"stale: {attempt.problem}, started {clock.relative(attempt.started_at, now)} and still "
                          f"open; `drill start {attempt.problem}` offers to abandon it", style="yellow"))
        attempt = None
    if attempt is not None:
        line = Text(say("in_progress", problem=attempt.problem))
        line.append_text(timer_text(now - attempt.started_at, targets.get(attempt.problem, 0.0)))
        if attempt.status:
            line.append(f"  ·  last grade {attempt.passed_cases}/{attempt.total_cases} ({attempt.status})", style="dim")
        if attempt.hints_used or attempt.solution_seen:
            line.append(f"  ·  {plural(attempt.hints_used, 'hint')}" + (", solution seen" if attempt.solution_seen else ""),
                        style="dim")
        parts.append(line)
    if due:
        names = ", ".join(c.problem for c in due[:8]) + (" ..." if len(due) > 8 else "")
        minutes = sum(targets.get(c.problem, 0.0) for c in due) / 60
        parts.append(Text(say("due_today", problems=noun(len(due), "problem"), minutes=f"{minutes:.0f}", names=names),
                          style="bold"))
    else:
        parts.append(Text(say("nothing_due"), style="dim"))
    if concepts_due:
        parts.append(Text(say("concepts_due", count=concepts_due), style="bold"))
    parts.append(Text(say("next"), style="bold").append(_next_command(attempt, due, upcoming), style="bold cyan"))
    return Group(*parts)


def _next_command(attempt: Attempt | None, due: list[CardRow], upcoming: tuple[str, str] | None) -> str:
    if attempt is not None:
        return f"drill grade   (or drill watch {attempt.problem})"
    if due:
        return "drill review"
    if upcoming is not None:
        return f"drill next    (starts {upcoming[0]})"
    return "drill stats"


def config_view(db: Path, workspace: Path, version: int | None, trouble: str | None) -> Group:
    from drillcli.store import SCHEMA_VERSION

    lines = [Text(f"database   {db}   (DRILL_HOME sets its folder)"),
             Text(f"workspace  {workspace}   (DRILL_WORKSPACE)")]
    if trouble:
        lines.append(Text(f"problem: {trouble}", style="red"))
    else:
        lines.append(Text(f"schema     version {version} (this drill knows {SCHEMA_VERSION})", style="dim"))
    return Group(*lines)
