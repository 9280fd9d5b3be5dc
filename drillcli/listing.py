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

HEADERS = ("id", "title", "difficulty", "minutes")
BOLD, CYAN, DIM, RESET = "\033[1m", "\033[1;36m", "\033[2m", "\033[0m"


def wants_color(stream: TextIO) -> bool:
    """Colour for a terminal, never for a pipe or a file; NO_COLOR (no-color.org) turns it off."""
    return stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def problem_lines(specs: list[Summary], width: int, color: bool) -> list[str]:
    """A heading row for each family, then its problems: id, title (wrapped), difficulty, minutes.
    `specs` come sorted by family."""
    def paint(text: str, style: str) -> str:
        return f"{style}{text}{RESET}" if color else text

    id_w = max([len(HEADERS[0]), *(len(s.id) + 2 for s in specs)])
    tail_w = len(HEADERS[2]) + 2 + len(HEADERS[3])
    title_w = max(20, width - id_w - tail_w - 4)
    lines = [paint(f"{HEADERS[0]:<{id_w}}  {HEADERS[1]:<{title_w}}  {HEADERS[2]}  {HEADERS[3]}", DIM)]
    for i, s in enumerate(specs):
        if i == 0 or specs[i - 1].family != s.family:
            lines.append(paint(s.family, CYAN))
        title = textwrap.wrap(s.title, title_w, break_on_hyphens=False) or [""]
        tail = f"{s.difficulty:<{len(HEADERS[2])}}  {s.target_minutes:>{len(HEADERS[3])}g}"
        lines.append(f"  {paint(f'{s.id:<{id_w - 2}}', BOLD)}  {title[0]:<{title_w}}  {tail}")
        lines += [f"{'':<{id_w}}  {more}" for more in title[1:]]
    return lines


def print_problems(specs: list[Summary]) -> None:
    width = shutil.get_terminal_size((80, 24)).columns
    sys.stdout.write("\n".join(problem_lines(specs, width, wants_color(sys.stdout))) + "\n")
