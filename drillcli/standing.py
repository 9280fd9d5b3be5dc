"""Where the user stands on each problem, for `drill list`: new, attempted, solved or due.
Reads the database only (no torch, no FSRS): `drill list` must start fast."""

from __future__ import annotations

from dataclasses import dataclass

from drillcli import clock
from drillcli.store import Store

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


def standings(store: Store) -> dict[str, Standing]:
    """Every problem with history: due (its card is due by the end of today) before solved
    (an attempt passed) before attempted. A problem absent from the result is new."""
    horizon = clock.end_of_day(clock.now()).timestamp()
    passed = {a.problem for a in store.attempts() if a.outcome == "passed"}
    out = {a.problem: Standing("solved" if a.problem in passed else "attempted") for a in store.attempts()}
    for card in store.cards():
        status = "due" if card.due_at <= horizon else "solved" if card.problem in passed else "attempted"
        out[card.problem] = Standing(status, card.due_at)
    return out
