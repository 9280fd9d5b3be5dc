"""`drill list` as plain lines: the command typed most often, printed without rich, whose
console import and table layout would cost more than all the rest of the command."""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from drillcli.catalog import Summary
    from drillcli.standing import Standing

HEADERS = ("id", "title", "level", "min", "status")
BOLD, CYAN, DIM, RESET = "\033[1m", "\033[1;36m", "\033[2m", "\033[0m"
# On a terminal a status is a glyph in a colour; in a pipe or a file, the word.
GLYPHS = {"new": ("·", DIM), "attempted": ("◐", "\033[33m"), "solved": ("✓", "\033[32m"), "due": ("↻", "\033[1;35m")}
STATUS_W = len("due 10d ago")


def wants_color(stream: TextIO) -> bool:
    """Colour for a terminal, never for a pipe or a file; NO_COLOR (no-color.org) turns it off."""
    return stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def group(summary: Summary) -> str:
    """The heading a problem is listed under: its family, or its pack's name."""
    return f"pack {summary.pack}" if summary.pack else summary.family


def status_text(standing: Standing, now: float, color: bool) -> str:
    """'due 2d ago' / 'solved' in a pipe; '↻ 2d ago' / '✓' (in colour) on a terminal."""
    when = standing.when(now)
    if not color:
        return f"{standing.status} {when}".rstrip()
    glyph, style = GLYPHS[standing.status]
    return f"{style}{glyph}{RESET} {when}".rstrip()


def problem_lines(specs: list[Summary], width: int, color: bool,
                  standings: dict[str, Standing] | None = None, now: float = 0.0) -> list[str]:
    """A heading row for each family (and each pack), then its problems: id, title (wrapped),
    difficulty, minutes and, with `standings`, where the user stands. `specs` come sorted by group."""
    from drillcli.standing import Standing

    def paint(text: str, style: str) -> str:
        return f"{style}{text}{RESET}" if color else text

    id_w = max([len(HEADERS[0]), *(len(s.id) + 2 for s in specs)])
    tail_w = len("medium") + 2 + len(HEADERS[3]) + (2 + STATUS_W if standings is not None else 0)
    title_w = max(12, width - id_w - tail_w - 4)
    header = f"{HEADERS[0]:<{id_w}}  {HEADERS[1]:<{title_w}}  {HEADERS[2]:<{len('medium')}}  {HEADERS[3]}"
    lines = [paint(header + (f"  {HEADERS[4]}" if standings is not None else ""), DIM)]
    for i, s in enumerate(specs):
        if i == 0 or group(specs[i - 1]) != group(s):
            lines.append(paint(group(s), CYAN))
        title = textwrap.wrap(s.title, title_w, break_on_hyphens=False) or [""]
        tail = f"{s.difficulty:<{len('medium')}}  {s.target_minutes:>{len(HEADERS[3])}g}"
        if standings is not None:
            tail += "  " + status_text(standings.get(s.id, Standing("new")), now, color)
        lines.append(f"  {paint(f'{s.id:<{id_w - 2}}', BOLD)}  {title[0]:<{title_w}}  {tail}".rstrip())
        lines += [f"{'':<{id_w}}  {more}" for more in title[1:]]
    return lines


def print_problems(specs: list[Summary], troubles: list[str] = (),
                   standings: dict[str, Standing] | None = None, now: float = 0.0) -> None:
    """The table, then one line for each pack or pack problem that cannot be used."""
    width = shutil.get_terminal_size((80, 24)).columns
    color = wants_color(sys.stdout)
    lines = problem_lines(specs, width, color, standings, now)
    lines += [f"{BOLD}warning:{RESET} {t}" if color else f"warning: {t}" for t in troubles]
    sys.stdout.write("\n".join(lines) + "\n")
