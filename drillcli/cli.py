"""The `drill` command line. Commands are thin: they parse, call one module, render.

Nothing imported at module level pulls in torch or numpy, so `drill --help` and
`drill list` start fast; grading imports what it needs when it runs.
"""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from drillcli import clock, paths
from drillcli.catalog import Catalog, UnknownProblem
from drillcli.spec import FAMILIES, Spec, SpecError
from drillcli.paths import WorkspaceError

app = typer.Typer(add_completion=False, rich_markup_mode="rich",
                  help="Practise the coding round of ML / LLM interviews.")
USAGE_ERROR = 2
NOT_RECORDED = 3     # a verdict was shown but the database could not record it
INTERRUPTED = 130
MAINTAINER = "Maintainer"


class ExportFormat(str, Enum):
    csv = "csv"
    json = "json"


PRACTICE = "Practice"
PROGRESS = "Progress"


def _console():
    from drillcli.render import console

    return console()


def fail(message: str, code: int = USAGE_ERROR) -> typer.Exit:
    _console().print(f"[red]error:[/] {message}")
    return typer.Exit(code)


LANG_HELP = "Language of prompts and messages: en or zh (default: DRILL_LANG, else `drill config lang`, else en)."


def _use_language(lang: Optional[str]) -> None:
    """Apply a command's --lang (None: the default; nothing to reset before drill.i18n is loaded)."""
    import sys

    if lang is None and "drillcli.i18n" not in sys.modules:
        return
    from drillcli.i18n import LANGUAGES, choose

    if lang is not None and lang not in LANGUAGES:
        raise fail(f"no language '{lang}'; languages: {', '.join(LANGUAGES)}")
    choose(lang)


def _spec(query: str, catalog: Catalog | None = None, typed: bool = True) -> Spec:
    """The problem the user named (typed) or drill stored (typed=False: the id as it is)."""
    catalog = catalog or Catalog()
    try:
        return catalog.spec(catalog.resolve(query, typed))
    except UnknownProblem as exc:
        raise fail(str(exc)) from None
    except SpecError as exc:
        raise fail(f"malformed spec: {exc}") from None


def _store():
    from drillcli.store import Store, StoreError

    try:
        return Store(paths.db_path())
    except StoreError as exc:
        raise fail(str(exc)) from None


def _open_editor(path: Path) -> None:
    from drillcli.editor import EditorError, open_in_editor

    try:
        open_in_editor(path)
    except EditorError as exc:
        raise fail(str(exc)) from None


@app.callback(invoke_without_command=True)
def where_you_stand(ctx: typer.Context) -> None:
    """Plain `drill`: the attempt in progress, what is due today and the next command to type."""
    _use_language(None)   # a command's --lang applies to that command only
    if ctx.invoked_subcommand is not None:
        return
    from drillcli.practice import due_cards, in_progress, next_problem
    from drillcli.render import status_view

    store, catalog = _store(), Catalog()
    upcoming = _catalog_call(next_problem, store, catalog)
    horizon = clock.end_of_day(clock.now()).timestamp()
    concepts_due = sum(row.due_at <= horizon for row in store.concept_cards())
    _console().print(status_view(in_progress(store), due_cards(store), upcoming, _targets(catalog), concepts_due))


def _catalog_call(function, *args):
    """Call something that reads every spec; a malformed one is a message, not a traceback."""
    try:
        return function(*args)
    except SpecError as exc:
        raise fail(f"malformed spec: {exc}") from None


def _targets(catalog: Catalog) -> dict[str, float]:
    """Target seconds by problem id."""
    return {s.id: s.target_minutes * 60 for s in _catalog_call(catalog.specs)}


@app.command("list")
def list_problems(
    family: Optional[str] = typer.Option(None, "--family", "-f", help="Only this family."),
    status: Optional[str] = typer.Option(None, "--status", "-s", help="Only problems new, attempted, solved or due."),
    as_json: bool = typer.Option(False, "--json", help="The catalog with your status on each, as JSON."),
) -> None:
    """List the problems: id, title, difficulty, target minutes and where you stand on each."""
    from drillcli.listing import print_problems
    from drillcli.standing import STATUSES, Standing

    catalog = Catalog()
    try:
        specs = catalog.summaries()
    except SpecError as exc:
        raise fail(f"malformed spec: {exc}") from None
    if family:
        chosen = _family(family)
        specs = [s for s in specs if s.family == chosen]
    if status and status not in STATUSES:
        raise fail(f"no status '{status}'; statuses: {', '.join(STATUSES)}")
    from drillcli.standing import read_standings

    standings, trouble = read_standings(paths.db_path())   # the list never depends on the database
    if status:
        specs = [s for s in specs if standings.get(s.id, Standing("new")).status == status]
    specs.sort(key=lambda s: (s.pack, FAMILIES.index(s.family), s.id))
    if as_json:
        from dataclasses import asdict

        typer.echo(json.dumps([{**asdict(s), "status": standings.get(s.id, Standing("new")).status,
                                "due_at": _iso(standings.get(s.id, Standing("new")).due_at)} for s in specs], indent=1))
        return
    if not specs:
        typer.echo(" ".join(filter(None, ["no", status, "problems", family and f"in {_family(family)}"])) + ".")
        return
    print_problems(specs, catalog.troubles() + ([trouble] if trouble else []), standings, clock.timestamp())


def _iso(seconds: float | None) -> str | None:

    return None if seconds is None else clock.from_timestamp(seconds).isoformat()


def _family(query: str, families: tuple[str, ...] = FAMILIES) -> str:
    """A family by name or unique prefix (`norm` -> normalization), else a usage error."""
    import difflib

    q = query.strip().lower()
    matches = [f for f in families if f.startswith(q)] if q not in families else [q]
    if len(matches) == 1:
        return matches[0]
    near = (matches or [f for f in families if f.startswith(q[:4])]
            or difflib.get_close_matches(q, families, n=2, cutoff=0.6))
    hint = f"did you mean {' or '.join(near)}? " if near else ""
    raise fail(f"no family '{query}'; {hint}families: {', '.join(families)}")


@app.command()
def show(problem: str = typer.Argument(..., help="Problem id, unique prefix or alias."),
         lang: Optional[str] = typer.Option(None, "--lang", help=LANG_HELP)) -> None:
    """Show a problem's prompt."""
    _use_language(lang)
    from drillcli.render import print_paged, prompt

    print_paged(_console(), prompt(_spec(problem)))


@app.command(rich_help_panel=PRACTICE)
def start(
    problem: str = typer.Argument(..., help="Problem id, unique prefix or alias."),
    fresh: bool = typer.Option(False, "--fresh", help="Back up your edited file and start again from the stub."),
    edit: bool = typer.Option(False, "--edit", help="Open the file in $EDITOR."),
    lang: Optional[str] = typer.Option(None, "--lang", help=LANG_HELP),
) -> None:
    """Copy the problem's stub to your workspace, show the prompt and start the timer."""
    _use_language(lang)
    from drillcli.practice import start as open_attempt

    spec, store = _spec(problem), _store()
    _offer_to_abandon_stale(store, spec)
    try:
        started = open_attempt(store, spec, fresh=fresh)
    except WorkspaceError as exc:
        raise fail(str(exc)) from None
    _show_started(spec, started, edit)


def _offer_to_abandon_stale(store, spec: Spec) -> None:
    """An attempt left open far beyond its target: abandon it (the schedule is not touched)
    and time a new one, or go on with it."""
    from drillcli.practice import abandon, is_stale

    current = store.open_attempt(spec.id)
    if current is None or not is_stale(current):
        return
    started = clock.relative(current.started_at, clock.timestamp())
    if typer.confirm(f"Your attempt at {spec.id} from {started} is still open. Abandon it (the review schedule is "
                     f"not touched) and start the timer again? Your file is kept either way.", default=True):
        abandon(store, current)


def _show_started(spec: Spec, started, edit: bool) -> None:
    from drillcli.render import print_paged, prompt, prompt_markdown, started_lines

    console = _console()
    started.path.with_suffix(".md").write_text(prompt_markdown(spec), encoding="utf-8")   # the rules beside the code
    print_paged(console, prompt(spec))
    for line in started_lines(spec, started):
        console.print(line)
    if edit:
        _open_editor(started.path)


@app.command(rich_help_panel=PRACTICE)
def grade(
    problem: Optional[str] = typer.Argument(None, help="Problem id; default: the one last started."),
    file: Optional[Path] = typer.Option(None, "--file", help="Grade this file instead of the workspace file."),
    as_json: bool = typer.Option(False, "--json", help="Print the verdict as one JSON document."),
    lang: Optional[str] = typer.Option(None, "--lang", help=LANG_HELP),
) -> None:
    """Grade your solution against the reference cases; every grade is recorded."""
    _use_language(lang)
    from drillcli.practice import record_verdict
    from drillcli.store import StoreError

    store, trouble = _store_or_trouble()
    if store is None and problem is None:
        raise fail(trouble)
    spec, path = _graded_file(store, problem, file)
    from drillcli.render import working
    from drillcli.runner import grade as run_grade

    try:
        with working(f"grading {path.name} as {spec.id}..."):
            verdict = run_grade(spec, path)
    except KeyboardInterrupt:
        raise fail("interrupted: this grade was not recorded; earlier attempts are intact.", INTERRUPTED) from None
    graded = None
    if store is not None:
        try:
            graded = record_verdict(store, spec, verdict, path)
        except StoreError as exc:
            trouble = str(exc)
    elapsed = graded.grade.elapsed_s if graded else None
    if as_json:
        from drillcli.render import verdict_document

        typer.echo(json.dumps(verdict_document(verdict, elapsed)))
    else:
        from drillcli.render import review_line, verdict_view

        console = _console()
        console.print(verdict_view(verdict, elapsed, spec.target_minutes * 60))
        if graded is not None and graded.review is not None:
            console.print(review_line(graded.review))
    if trouble:
        raise fail(f"the verdict above was not recorded: {trouble}", NOT_RECORDED)
    raise typer.Exit(0 if verdict.ok else 1)


def _store_or_trouble():
    """(the store, None), or (None, why it cannot be used): a grade still runs without one."""
    from drillcli.store import Store, StoreError

    try:
        return Store(paths.db_path()), None
    except StoreError as exc:
        return None, str(exc)


def _graded_file(store, problem: Optional[str], file: Optional[Path]) -> tuple[Spec, Path]:
    """The problem to grade (default: the current one) and the file to grade."""
    typed = problem is not None
    if problem is None:
        problem = store.current_problem()
        if problem is None:
            raise fail("nothing started yet. Type `drill start <id>` (see `drill list`), "
                       "or `drill grade <id> --file path.py`.")
    spec = _spec(problem, typed=typed)
    path = file or paths.workspace_file(spec.id)
    if not path.is_file():
        hint = f"run `drill start {spec.id}` first" if file is None else "check the path"
        raise fail(f"no file at {path}: {hint}")
    return spec, path


@app.command(rich_help_panel=PRACTICE)
def watch(
    problem: Optional[str] = typer.Argument(None, help="Problem id; default: the one last started."),
    poll: bool = typer.Option(False, "--poll", help="Poll the file instead of file-system events "
                              "(network or container file systems)."),
    lang: Optional[str] = typer.Option(None, "--lang", help=LANG_HELP),
) -> None:
    """Re-grade on every save, with a live timer against the target time."""
    _use_language(lang)
    from drillcli.watch import run_watch

    store = _store()
    spec, path = _graded_file(store, problem, None)
    run_watch(store, spec, path, poll=poll, console=_console())


CURRENT = "Problem id, unique prefix or alias; default: the one last started."


def _current_spec(store, problem: Optional[str]) -> Spec:
    """The problem named, else the one last started."""
    if problem is not None:
        return _spec(problem)
    problem = store.current_problem()
    if problem is None:
        raise fail("nothing started yet: name a problem (see `drill list`).")
    return _spec(problem, typed=False)


def declined(what: str) -> typer.Exit:
    """A confirmation answered no: say what was not done; that is no error."""
    _console().print(f"{what}.")
    return typer.Exit(0)


@app.command(rich_help_panel=PRACTICE)
def hint(
    problem: Optional[str] = typer.Argument(None, help=CURRENT),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    lang: Optional[str] = typer.Option(None, "--lang", help=LANG_HELP),
) -> None:
    """Reveal the next hint (recorded: one hint rates the attempt at most Hard, two Again)."""
    _use_language(lang)
    from drillcli.practice import HINT_COST, reveal_hint
    from drillcli.render import hints_view

    store = _store()
    spec = _current_spec(store, problem)
    _refuse_in_mock(store, spec, "hints")
    attempt = store.open_attempt(spec.id)
    first = attempt is None or attempt.hints_used == 0
    if first and not yes and not typer.confirm(f"{HINT_COST} Reveal a hint for {spec.id}?", default=True):
        raise declined("No hint revealed; the attempt is unchanged")
    shown, new = reveal_hint(store, spec)
    _console().print(hints_view(spec, shown, new))


@app.command(rich_help_panel=PRACTICE)
def solution(
    problem: Optional[str] = typer.Argument(None, help=CURRENT),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Show the reference solution (during an attempt it counts as seen: rated Again)."""
    from drillcli.render import code_view, print_paged

    store = _store()
    spec = _current_spec(store, problem)
    _refuse_in_mock(store, spec, "solutions")
    _confirm_reveal(store, spec, yes)
    print_paged(_console(), code_view(Catalog().solution_path(spec), f"reference solution: {spec.id}"))


@app.command(rich_help_panel=PRACTICE)
def diff(
    problem: Optional[str] = typer.Argument(None, help=CURRENT),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Show your file against the reference solution (counts as seen, like `drill solution`)."""
    from drillcli.render import diff_view, print_paged

    store = _store()
    spec = _current_spec(store, problem)
    mine = paths.workspace_file(spec.id)
    if not mine.is_file():
        raise fail(f"no file at {mine}: run `drill start {spec.id}` first")
    _refuse_in_mock(store, spec, "solutions")
    _confirm_reveal(store, spec, yes)
    print_paged(_console(), diff_view(mine, Catalog().solution_path(spec)))


def _refuse_in_mock(store, spec: Spec, what: str) -> None:
    """A mock round allows no hints and no solutions for its problems until it ends."""
    from drillcli.mock import problems_of, unfinished

    row = unfinished(store)
    if row is not None and spec.id in problems_of(row):
        raise fail(f"{spec.id} is part of the mock round in progress: no {what} until the round ends "
                   f"(`drill mock --resume` continues it).")


def _confirm_reveal(store, spec: Spec, yes: bool) -> None:
    """During an attempt, ask before revealing the reference and record it as seen; with
    none in progress (solved, or never started) reading it costs nothing and opens nothing."""
    from drillcli.practice import reveal_solution

    if store.open_attempt(spec.id) is None:
        return
    if not yes and not typer.confirm(f"Reveal the reference for {spec.id}? The attempt in progress will count as "
                                     f"solution seen (rated Again).", default=False):
        raise declined("Nothing revealed; the attempt is unchanged")
    reveal_solution(store, spec)


@app.command(rich_help_panel=PRACTICE)
def review(
    list_only: bool = typer.Option(False, "--list", help="Show what is due and when; start nothing."),
    rebuild: bool = typer.Option(False, "--rebuild", help="Recompute every card from the stored review "
                                 "signals with the current rating mapping."),
    limit: Optional[int] = typer.Option(None, "--limit", "-n", min=1, help="At most this many problems."),
    lang: Optional[str] = typer.Option(None, "--lang", help=LANG_HELP),
) -> None:
    """Review the problems that are due, most overdue first: rewrite each from a fresh stub."""
    _use_language(lang)
    store = _store()
    if rebuild:
        from drillcli.schedule import rebuild as rebuild_cards

        cards = rebuild_cards(store.reviews())
        store.replace_cards(cards)
        from drillcli.render import plural

        _console().print(f"rebuilt {plural(len(cards), 'card')} from {plural(len(store.reviews()), 'review')}.")
        return
    if list_only:
        from drillcli.render import schedule_table

        _console().print(schedule_table(store.cards(), _targets(Catalog())))
        return
    from drillcli.review import Session
    from drillcli.worker_process import WorkerProcess

    with WorkerProcess() as worker:
        worker.start()   # torch imports while the user reads the first prompt
        try:
            _catalog_call(Session(store, Catalog(), _console(), worker=worker, limit=limit).run)
        except WorkspaceError as exc:
            raise fail(str(exc)) from None


def _deck(catalog: Catalog) -> list:
    """The whole concept deck; a malformed deck file is a message, not a traceback."""
    from drillcli.deck import DeckError, deck

    try:
        return _catalog_call(deck, catalog)
    except DeckError as exc:
        raise fail(f"malformed concept deck: {exc}") from None


@app.command(rich_help_panel=PRACTICE)
def quiz(
    family: Optional[str] = typer.Option(None, "--family", "-f", help="Only this family's cards."),
    count: int = typer.Option(10, "--count", "-n", min=1, help="At most this many cards."),
    lang: Optional[str] = typer.Option(None, "--lang", help=LANG_HELP),
) -> None:
    """Concept cards on their own schedule: due ones first, then new ones; self-rated 1-4."""
    _use_language(lang)
    from drillcli.deck import DECK_FAMILIES
    from drillcli.quiz import Quiz, pick

    store, cards = _store(), _deck(Catalog())
    if family:
        chosen = _family(family, DECK_FAMILIES)
        cards = [c for c in cards if c.family == chosen]
    picked = pick(store, cards, count)
    if not picked:
        _console().print("No concept card is due and you have seen them all. Come back tomorrow.")
        return
    Quiz(store, _console()).run(picked)


@app.command(rich_help_panel=PRACTICE)
def mock(
    minutes: int = typer.Option(60, "--minutes", "-m", help="The round's length: 45, 60 or 90."),
    family: Optional[str] = typer.Option(None, "--family", "-f", help="Only this family's problems and questions."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Pick the same round again."),
    resume: bool = typer.Option(False, "--resume", help="Continue the interrupted round within its time left."),
    lang: Optional[str] = typer.Option(None, "--lang", help=LANG_HELP),
) -> None:
    """A mock interview round: one clock, coding problems then concept questions, no hints; scored /100."""
    _use_language(lang)
    import random

    from drillcli.mock import LENGTHS, MockSession, new_round, seconds_left, unfinished
    from drillcli.worker_process import WorkerProcess

    if minutes not in LENGTHS:
        raise fail(f"a round lasts {', '.join(map(str, LENGTHS))} minutes, not {minutes}")
    store, catalog, console = _store(), Catalog(), _console()
    cards = _deck(catalog)
    paused = unfinished(store)
    if resume:
        if paused is None:
            raise fail("no interrupted mock round to resume: `drill mock` starts one")
        paused.resumed_at = clock.timestamp()
        store.save_mock(paused)
        row = paused
        console.print(f"resuming the round of {clock.from_timestamp(row.started_at):%Y-%m-%d %H:%M} with "
                      f"{clock.duration(seconds_left(row, row.resumed_at))} left")
    else:
        if paused is not None and not typer.confirm(
                f"A mock round from {clock.relative(paused.started_at, clock.timestamp())} was interrupted "
                f"(`drill mock --resume` continues it). Start a new one instead?", default=False):
            raise declined("Nothing started; `drill mock --resume` continues the interrupted round")
        if paused is not None:   # the interrupted round ends as it stands
            old = MockSession(store, catalog, cards, console, paused)
            old.finish(old.plan)
        chosen = _family(family) if family else None
        row = _catalog_call(new_round, store, catalog, cards, minutes, chosen,
                            seed if seed is not None else random.randrange(10**6))
    with WorkerProcess() as worker:
        worker.start()   # torch imports while the user reads the first prompt
        try:
            _catalog_call(MockSession(store, catalog, cards, console, row, worker=worker).run)
        except WorkspaceError as exc:
            raise fail(str(exc)) from None


@app.command("next", rich_help_panel=PRACTICE)
def next_(
    edit: bool = typer.Option(False, "--edit", help="Open the file in $EDITOR."),
    lang: Optional[str] = typer.Option(None, "--lang", help=LANG_HELP),
) -> None:
    """Start the most overdue review, or else the next problem you have not tried."""
    _use_language(lang)
    from drillcli.practice import next_problem, start as open_attempt

    store, catalog = _store(), Catalog()
    upcoming = _catalog_call(next_problem, store, catalog)
    if upcoming is None:
        _console().print("Nothing is due and you have tried every problem. `drill review --list` shows what comes next.")
        return
    pid, reason = upcoming
    spec = _spec(pid, catalog)
    try:
        started = open_attempt(store, spec, fresh=reason == "due", mode="review" if reason == "due" else "next")
    except WorkspaceError as exc:
        raise fail(str(exc)) from None
    _console().print(f"[bold]{'due for review' if reason == 'due' else 'new problem'}:[/] {spec.id}")
    _show_started(spec, started, edit)


@app.command(rich_help_panel=PROGRESS)
def stats(problem: Optional[str] = typer.Argument(None, help="One problem's history.")) -> None:
    """Per-problem best score, attempts, median time vs target, due dates; streak and heatmap."""
    from drillcli import stats as stats_module

    store, catalog = _store(), Catalog()
    if problem:
        _console().print(stats_module.problem_view(store, _spec(problem, catalog)))
    else:
        _console().print(stats_module.overview(store, _catalog_call(catalog.specs)))


@app.command(rich_help_panel=PROGRESS)
def export(
    fmt: ExportFormat = typer.Option("json", "--format", help="csv (one row per grade) or json (attempts, grades, "
                                     "reviews)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write here instead of standard output."),
) -> None:
    """Write the whole history as CSV or JSON."""
    from drillcli.export import render

    text = render(_store(), fmt.value)
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise fail(f"cannot write {output}: {exc}") from None
    _console().print(f"wrote {output}")


@app.command(rich_help_panel=PROGRESS)
def reset(
    problem: Optional[str] = typer.Argument(None, help=CURRENT),
    history: bool = typer.Option(False, "--history", help="Also delete its attempts, grades, reviews and card."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Clear a problem's workspace file (backed up first); with --history, forget its attempts."""
    from drillcli.practice import reset as reset_problem

    from drillcli.render import plural

    store = _store()
    spec = _current_spec(store, problem)
    if history and not yes and not typer.confirm(
            f"Delete all {plural(len(store.attempts(spec.id)), 'attempt')} at {spec.id} and its review schedule?",
            default=False):
        raise declined("Nothing deleted")
    try:
        moved = reset_problem(store, spec, history)
    except WorkspaceError as exc:
        raise fail(str(exc)) from None
    console = _console()
    console.print(f"backed up your file to {moved}" if moved else "no workspace file to clear")
    if history:
        console.print(f"forgot the history of {spec.id}")


@app.command()
def config(
    key: Optional[str] = typer.Argument(None, help="A setting to change: lang."),
    value: Optional[str] = typer.Argument(None, help="Its new value: en or zh."),
) -> None:
    """Where drill keeps its database and your workspace (DRILL_HOME, DRILL_WORKSPACE);
    `drill config lang zh` shows prompts, cards and the loop's messages in Chinese."""
    from drillcli.i18n import LANGUAGES, language, store_language
    from drillcli.render import config_view
    from drillcli.store import Store, StoreError

    if key is not None:
        if key != "lang" or value not in LANGUAGES:
            raise fail(f"usage: drill config lang {'|'.join(LANGUAGES)}")
        store_language(value)
        _console().print(f"lang = {value}")
        return
    try:
        version, trouble = Store(paths.db_path()).schema_version, None
    except StoreError as exc:
        version, trouble = None, str(exc)
    _console().print(config_view(paths.db_path(), paths.workspace(), version, trouble))
    _console().print(f"lang       {language()} (drill config lang en|zh; DRILL_LANG; --lang)")


from drillcli import maintainer_cli  # noqa: E402,F401 - registers new, build-fixtures, check and pack
