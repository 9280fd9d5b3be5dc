"""The concept deck: at least 100 standalone cards beside every problem's follow-ups, each a
question, an answer and 2-4 key points; a malformed deck file names the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from drillcli.catalog import Catalog
from drillcli.deck import DECK_FAMILIES, DeckError, deck, followup_cards, standalone_cards


def test_the_standalone_deck_has_100_cards_with_2_to_4_key_points_each():
    cards = standalone_cards()
    assert len(cards) >= 100
    assert len({c.id for c in cards}) == len(cards)
    assert all(2 <= len(c.points) <= 4 and c.family in DECK_FAMILIES for c in cards)
    assert len({c.topic for c in cards}) >= 10


def test_every_follow_up_of_every_problem_is_a_card_with_key_points():
    catalog = Catalog()
    followups = followup_cards(catalog)
    assert len(followups) == sum(len(catalog.spec(pid).followups) for pid in catalog.ids) >= 245
    missing = [c.id for c in followups if not 2 <= len(c.points) <= 4]
    assert not missing, f"follow-ups without 2-4 key points: {missing}"
    assert len(deck(catalog)) == len(followups) + len(standalone_cards())


@pytest.mark.parametrize("text, field", [
    ("topic: x\nfamily: attention\ncards: []\n", "topic"),
    ("topic: bad\nfamily: cooking\ncards: []\n", "family"),
    ("topic: bad\nfamily: attention\ncards:\n  - id: Not A Slug\n    q: q\n    a: a\n    points: [x, y]\n", "cards[0].id"),
    ("topic: bad\nfamily: attention\ncards:\n  - id: one\n    q: q\n    a: a\n    points: [x]\n", "cards[0].points"),
    ("topic: bad\nfamily: attention\ncards:\n  - id: one\n    q: q\n    a: a\n    points: [x, rule: y]\n",
     "cards[0].points"),
])
def test_a_malformed_deck_file_names_the_file_and_the_field(tmp_path: Path, text: str, field: str):
    (tmp_path / "bad.yaml").write_text(text)
    with pytest.raises(DeckError) as err:
        standalone_cards(tmp_path)
    assert "bad.yaml" in str(err.value) and field in str(err.value)
