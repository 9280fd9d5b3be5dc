"""`drill quiz`: concept cards, due ones first (most overdue first), then new ones. Each card:
the question, Enter for the reference answer and its key points, the points you covered,
then a self-rating 1-4 that schedules the card on the deck's own FSRS schedule."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Callable

import typer
from rich.console import Console
from rich.panel import Panel
from rich.text import Text

from drillcli import clock
from drillcli.deck import Card
from drillcli.messages import say
from drillcli.render import RATING_NAMES
from drillcli.store import Store

QUIT = "quit"


def due_concepts(store: Store, cards: list[Card]) -> list[Card]:
    """Deck cards due by the end of today, most overdue first."""
    horizon = clock.end_of_day(clock.now()).timestamp()
    by_id = {c.id: c for c in cards}
    return [by_id[row.card] for row in store.concept_cards() if row.due_at <= horizon and row.card in by_id]


def pick(store: Store, cards: list[Card], count: int) -> list[Card]:
    """Up to `count` cards: the due ones, then cards never reviewed, in a fixed shuffled order
    (so that a session does not walk one topic at a time)."""
    seen = {row.card for row in store.concept_cards()}
    fresh = sorted((c for c in cards if c.id not in seen), key=lambda c: hashlib.sha256(c.id.encode()).digest())
    return (due_concepts(store, cards) + fresh)[:count]


def parse_points(answer: str, total: int) -> list[int] | None:
    """'1 3' or '1,3' -> [1, 3]; 'a' -> all; '' -> none; None if it does not parse."""
    answer = answer.strip().lower()
    if answer in ("a", "all"):
        return list(range(1, total + 1))
    try:
        chosen = sorted({int(x) for x in answer.replace(",", " ").split()})
    except ValueError:
        return None
    return chosen if all(1 <= x <= total for x in chosen) else None


def suggested_rating(covered: int, total: int) -> int:
    """What the coverage suggests: every point Good, at least half Hard, fewer Again."""
    if total == 0:
        return 3
    return 3 if covered == total else 2 if 2 * covered >= total else 1


@dataclass
class Quiz:
    store: Store
    console: Console
    ask: Callable[..., str] = typer.prompt

    def run(self, cards: list[Card]) -> int:
        """Review `cards` in order; returns how many were rated (q stops early)."""
        for i, card in enumerate(cards, 1):
            if self.one(card, f"{i}/{len(cards)}") == QUIT:
                self.console.print(say("quiz_stopped", count=i - 1))
                return i - 1
        self.console.print(say("quiz_done", count=len(cards)))
        return len(cards)

    def covered(self, card: Card) -> list[int] | str:
        """Ask for the question's answer, show the reference, ask which key points were covered."""
        self.console.print(Text(f"{card.q}", style="bold"))
        if self.ask(say("quiz_answer"), default="", show_default=False).strip().lower() == "q":
            return QUIT
        self.console.print(Panel(card.a, title=say("reference_answer"), title_align="left", border_style="dim"))
        if not card.points:
            return []
        self.console.print(Text(say("key_points") + "\n" + "\n".join(f"  {n}. {p}" for n, p in enumerate(card.points, 1))))
        while True:
            chosen = parse_points(self.ask(say("which_points"), default="", show_default=False), len(card.points))
            if chosen is not None:
                return chosen
            self.console.print(f"type numbers from 1 to {len(card.points)}, a, or Enter")

    def one(self, card: Card, position: str) -> str:
        from drillcli.schedule import review_concept

        self.console.rule(say("concept_rule", position=position, topic=card.topic))
        chosen = self.covered(card)
        if chosen == QUIT:
            return QUIT
        default = suggested_rating(len(chosen), len(card.points))
        while True:
            answer = self.ask(say("how_well_card"), default=str(default)).strip()
            if answer in ("1", "2", "3", "4"):
                break
            self.console.print("type 1, 2, 3 or 4")
        row = review_concept(card.id, self.store.concept_card(card.id), int(answer), clock.now())
        self.store.review_concept(row, int(answer), len(chosen), len(card.points))
        self.console.print(say("card_rated", rating=RATING_NAMES[int(answer)],
                               relative=clock.relative(row.due_at, clock.timestamp())))
        return "done"
