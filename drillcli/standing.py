"""Where the user stands on each problem, for `drill list`: new, attempted, solved or due.
Reads the database only (no torch, no FSRS): `drill list` must start fast."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from drillcli import clock

STATUSES = ("new", "attempted", "solved", "due")


@dataclass(frozen=True)
class Standing:
    status: str
    due_at: float | None = None    # the next review, for a problem with a card

    def when(self, now: float) -> str:
        """For a due problem, since when: 'today' or '3d ago'; '' otherwise."""
        if self.status != "due" or self.due_at is None:
            return ""
        days = int((now - self.due_at) // 86400)
        return f"{days}d ago" if days >= 1 else "today"


def standings(attempts: list[tuple[str, str | None]], cards: list[tuple[str, float]]) -> dict[str, Standing]:
    """Every problem with history, from (problem, outcome) attempts and (problem, due_at)
    cards: due (its card is due by the end of today) before solved (an attempt passed)
    before attempted. A problem absent from the result is new."""
    horizon = clock.end_of_day(clock.now()).timestamp()
    passed = {problem for problem, outcome in attempts if outcome == "passed"}
    out = {problem: Standing("solved" if problem in passed else "attempted") for problem, _ in attempts}
    for problem, due_at in cards:
        status = "due" if due_at <= horizon else "solved" if problem in passed else "attempted"
        out[problem] = Standing(status, due_at)
    return out


def read_standings(db: Path) -> tuple[dict[str, Standing], str | None]:
    """(the standings, None) straight from the database file, read-only: `drill list` runs
    every few commands, and opening the Store (its record types, WAL, migrations) costs more
    than the query. A file that this cannot read goes through the Store; ({}, why) if that
    fails too."""
    if not db.exists():
        return {}, None
    try:
        conn = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True, timeout=2)
        try:
            attempts = conn.execute("SELECT problem, outcome FROM attempts").fetchall()
            cards = conn.execute("SELECT problem, due_at FROM cards").fetchall()
        finally:
            conn.close()
    except sqlite3.Error:
        from drillcli.store import Store, StoreError

        try:
            store = Store(db)
            attempts = [(a.problem, a.outcome) for a in store.attempts()]
            cards = [(c.problem, c.due_at) for c in store.cards()]
        except StoreError as exc:
            return {}, f"statuses unavailable: {exc}"
    return standings(attempts, cards), None
