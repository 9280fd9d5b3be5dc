"""The maintainer's commands: `drill new`, `build-fixtures`, `check` and `drill pack`.
Registered on the one `drill` app by drillcli.cli, which imports this module last."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from drillcli.catalog import Catalog, UnknownProblem
from drillcli.cli import MAINTAINER, _console, _family, _spec, app, fail
from drillcli.spec import Spec, SpecError

pack_app = typer.Typer(help="Problem packs: folders of problems outside the package (see docs/AUTHORING.md).")
app.add_typer(pack_app, name="pack", rich_help_panel=MAINTAINER)


@pack_app.command("add")
def pack_add(path: Path = typer.Argument(..., help="The pack's folder (it holds pack.yaml).")) -> None:
    """Add a pack: its problems are listed, started, graded and reviewed like built-in ones."""
    from drillcli.packs import PackError, add

    try:
        pack = add(path)
    except PackError as exc:
        raise fail(str(exc)) from None
    count = len(list((pack.root / "problems").glob("*/spec.yaml")))
    _console().print(f"added pack [bold]{pack.name}[/] {pack.version} ({count} problems) from {pack.root}")
    for line in Catalog().troubles():
        _console().print(f"[yellow]warning:[/] {line}")


@pack_app.command("list")
def pack_list() -> None:
    """The packs in use: added ones and those in DRILL_PACKS."""
    from drillcli.packs import installed

    packs, broken = installed()
    console = _console()
    if not packs and not broken:
        console.print("no packs. `drill pack add PATH` adds one; DRILL_PACKS adds them for one shell.")
    for pack in packs:
        count = len(list((pack.root / "problems").glob("*/spec.yaml")))
        console.print(f"[bold]{pack.name}[/] {pack.version}  {count} problems  {pack.root}\n  {pack.description}")
    for line in broken:
        console.print(f"[yellow]warning:[/] {line}")


@pack_app.command("remove")
def pack_remove(name: str = typer.Argument(..., help="The pack's name (or its folder).")) -> None:
    """Stop using a pack; its folder and your history with its problems are kept."""
    from drillcli.packs import PackError, remove

    try:
        folder = remove(name)
    except PackError as exc:
        raise fail(str(exc)) from None
    _console().print(f"removed the pack at {folder} (its files are untouched)")


@app.command(rich_help_panel=MAINTAINER)
def new(
    problem_id: str = typer.Argument(..., help="The new problem's id: lowercase words joined by '-'."),
    family: Optional[str] = typer.Option(None, "--family", "-f", help="Its family; default: --like's, else algorithms."),
    like: Optional[str] = typer.Option(None, "--like", help="Start from this problem's files (its shape)."),
    pack: Optional[Path] = typer.Option(None, "--pack", help="Write into this pack folder (made a pack and added if "
                                        "need be); default: the pack in the current folder, else the catalog of a "
                                        "checkout."),
) -> None:
    """Scaffold a problem: spec, stub, reference, grader with a case builder, and tests."""
    from drillcli.packs import PACK_FILE, PackError, init
    from drillcli.scaffold import ScaffoldError, scaffold

    other = _spec(like) if like else None
    chosen = _family(family) if family else other.family if other else "algorithms"
    if pack is None and (Path.cwd() / PACK_FILE).is_file():
        pack = Path.cwd()
    try:
        source = init(pack) if pack is not None else None
    except PackError as exc:
        raise fail(str(exc)) from None
    root = source.root if source else Catalog().root
    if source is None and not (root / "pyproject.toml").is_file():
        raise fail(f"the built-in catalog at {root} is installed, not a checkout: write into a pack with "
                   f"`drill new {problem_id} --pack ~/my-drills`")
    try:
        written = scaffold(root, source.name if source else "", problem_id, chosen, other)
    except ScaffoldError as exc:
        raise fail(str(exc)) from None
    full = f"{source.name}/{problem_id}" if source else problem_id
    console = _console()
    for path in written:
        console.print(f"wrote {path}")
    console.print(f"next: replace each TODO, then `drill build-fixtures {full}` and `drill check {full}` "
                  f"(docs/AUTHORING.md)")


@app.command("build-fixtures", rich_help_panel=MAINTAINER)
def build_fixtures(problems: list[str] = typer.Argument(None, help="Problem ids; default: all.")) -> None:
    """Regenerate reference fixtures from solutions/ (maintainers)."""
    from drillcli.build import write_fixtures

    catalog = Catalog()
    for pid in problems or catalog.ids:
        path = write_fixtures(_spec(pid, catalog), catalog)
        _console().print(f"wrote {path}")


@app.command(rich_help_panel=MAINTAINER)
def check(
    problems: list[str] = typer.Argument(None, help="Problem ids; default: all."),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", help="Problems checked at once; default: one per core."),
) -> None:
    """Prove problems consistent, each issue in the order to fix it: spec fields, stub
    signature, reference runs, fixtures reproducible, reference passes, stub not
    implemented, at least 20 cases; then what the Chinese texts lack."""
    from drillcli.checking import check_all

    catalog, console, bad, specs = Catalog(), _console(), 0, []
    for pid in problems or catalog.ids:
        try:
            specs.append(catalog.spec(catalog.resolve(pid)))
        except UnknownProblem as exc:
            raise fail(str(exc)) from None
        except SpecError as exc:
            console.print(f"[red]✗[/] {pid}: malformed spec: {exc}")
            bad += 1
    if not problems:
        for line in catalog.broken_packs:
            console.print(f"[red]✗[/] {line}")
            bad += 1
    for checked in check_all(specs, catalog, jobs):
        bad += bool(checked.issues)
        for issue in checked.issues:
            console.print(f"[red]✗[/] {issue}")
        if not checked.issues:
            console.print(f"[green]✓[/] {checked.spec.id}: {checked.cases} cases")
    _translation_report(console, [catalog.spec(s.id, localized=False) for s in specs], not problems)
    raise typer.Exit(1 if bad else 0)


def _translation_report(console, specs: list[Spec], deck: bool) -> None:
    """What the Chinese texts lack (a missing translation falls back to English): one line
    each, as warnings; a translation that changes code or numbers is listed in full."""
    from drillcli.deck import concepts_dir
    from drillcli.i18n import problem_issues, topic_issues

    missing = [s.id for s in specs if problem_issues(s) == ["no zh.yaml"]]
    if missing:
        console.print(f"[yellow]⚠[/] no Chinese yet ({len(missing)}): {', '.join(missing)}")
    for spec in specs:
        for issue in problem_issues(spec):
            if issue != "no zh.yaml":
                console.print(f"[yellow]⚠[/] {spec.id}: zh.yaml: {issue}")
    for topic in sorted(concepts_dir().glob("*.yaml")) if deck else ():
        for issue in topic_issues(topic):
            console.print(f"[yellow]⚠[/] concepts/{topic.name}: {issue}")

