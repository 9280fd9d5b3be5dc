"""The concept deck: the standalone cards of `concepts/<topic>.yaml` and every problem's
follow-up questions. A card is a question, a reference answer and 2-4 key points; `drill
quiz` reviews them on their own FSRS schedule, never mixed with the problems'."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from drillcli.spec import FAMILIES, SpecError, parse_card

DECK_FAMILIES = (*FAMILIES, "inference", "systems")   # topics with no coding problem of their own
CARD_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class DeckError(Exception):
    """A deck file that cannot be used: the file, the field and what was expected."""


@dataclass(frozen=True)
class Card:
    id: str                  # a standalone card's own id, or "<problem id>#<n>" for a follow-up
    family: str
    q: str
    a: str
    points: tuple[str, ...]
    topic: str               # the deck file's title, or the problem's id


def concepts_dir() -> Path:
    from drillcli.catalog import builtin_root

    return builtin_root() / "concepts"


def _topic(path: Path) -> list[Card]:
    """A topic's cards, in Chinese where chosen and translated (English under a marker else)."""
    import yaml

    from drillcli.i18n import MISSING, language, topic_translation

    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise DeckError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("cards"), list):
        raise DeckError(f"{path}: expected a mapping with topic, title, family and a list of cards")
    if raw.get("topic") != path.stem:
        raise DeckError(f"{path}: field 'topic' must be the file's name '{path.stem}', got {raw.get('topic')!r}")
    if raw.get("family") not in DECK_FAMILIES:
        raise DeckError(f"{path}: field 'family' must be one of {', '.join(DECK_FAMILIES)}, got {raw.get('family')!r}")
    cards = []
    for i, item in enumerate(raw["cards"]):
        card_id = item.get("id") if isinstance(item, dict) else None
        if not isinstance(card_id, str) or not CARD_ID.match(card_id):
            raise DeckError(f"{path}: field 'cards[{i}].id' must be a lowercase slug, got {card_id!r}")
        try:
            card = parse_card({k: v for k, v in item.items() if k != "id"}, path, f"cards[{i}]")
        except SpecError as exc:
            raise DeckError(str(exc)) from None
        if len(card.points) < 2:
            raise DeckError(f"{path}: field 'cards[{i}].points' must list 2-4 key points")
        cards.append(Card(card_id, raw["family"], card.q, card.a, card.points, str(raw.get("title", path.stem))))
    if language() != "zh":
        return cards
    zh = topic_translation(path)
    return [Card(c.id, c.family, zh[c.id]["q"], zh[c.id]["a"], tuple(zh[c.id]["points"]), c.topic)
            if c.id in zh and len(zh[c.id].get("points", ())) == len(c.points)
            else Card(c.id, c.family, f"{MISSING} {c.q}", c.a, c.points, c.topic) for c in cards]


def standalone_cards(folder: Path | None = None) -> list[Card]:
    """Every card of the deck files, in file then card order; ids are unique."""
    cards: list[Card] = []
    for path in sorted((folder or concepts_dir()).glob("*.yaml")):
        cards += _topic(path)
    seen: set[str] = set()
    for card in cards:
        if card.id in seen:
            raise DeckError(f"{concepts_dir()}: card id '{card.id}' is used twice")
        seen.add(card.id)
    return cards


def followup_cards(catalog) -> list[Card]:
    """Every problem's follow-up questions, as cards '<problem id>#<n>'."""
    return [Card(f"{spec.id}#{n}", spec.family, f.q, f.a, f.points, spec.id)
            for spec in catalog.specs() for n, f in enumerate(spec.followups, 1)]


def deck(catalog) -> list[Card]:
    return standalone_cards() + followup_cards(catalog)
