"""Chinese beside English: translations keep code, inline code and numbers identical, a
missing one falls back to English under a visible marker, the language is chosen by
`drill config lang`, DRILL_LANG or --lang, and Chinese wraps inside panels at 80 columns."""

from __future__ import annotations

import re
import shutil
import string
from collections import Counter

import pytest
from rich.console import Console
from typer.testing import CliRunner

from drillcli.catalog import Catalog, builtin_root
from drillcli.cli import app
from drillcli.deck import concepts_dir
from drillcli.i18n import MISSING, localize, mismatches, problem_issues, topic_issues
from drillcli.messages import MESSAGES
from drillcli.render import prompt

CATALOG = Catalog()
TRANSLATED = [pid for pid in CATALOG.ids if (CATALOG.spec(pid, localized=False).folder / "zh.yaml").exists()]
TOPICS = sorted(p for p in concepts_dir().glob("*.yaml") if (p.parent / "zh" / p.name).exists())
CJK = re.compile(r"[\u4e00-\u9fff]")


def drill(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False, env={"COLUMNS": "100"})


@pytest.mark.parametrize("pid", TRANSLATED)
def test_a_translated_problem_keeps_every_code_block_inline_code_and_number(pid):
    assert problem_issues(CATALOG.spec(pid, localized=False)) == []


@pytest.mark.parametrize("topic", TOPICS, ids=lambda p: p.stem)
def test_a_translated_deck_topic_keeps_every_card_and_its_code_and_numbers(topic):
    assert topic_issues(topic) == []


def test_the_checker_catches_a_changed_number_a_lost_code_span_and_a_changed_block():
    english = "Scale by `1 / sqrt(d)` with d = 64.\n\n```python\nx = 1\n```\n"
    assert mismatches(english, "用 `1 / sqrt(d)` 缩放，d = 64。\n\n```python\nx = 1\n```\n") == []
    assert any("numbers" in m for m in mismatches(english, "用 `1 / sqrt(d)` 缩放，d = 32。\n\n```python\nx = 1\n```\n"))
    assert any("inline code" in m for m in mismatches(english, "用 1/sqrt(d) 缩放，d = 64。\n\n```python\nx = 1\n```\n"))
    assert any("code blocks" in m for m in mismatches(english, "用 `1 / sqrt(d)` 缩放，d = 64。\n\n```python\nx = 2\n```\n"))


@pytest.mark.parametrize("key", MESSAGES)
def test_every_loop_message_has_both_languages_with_the_same_placeholders(key):
    english, chinese = MESSAGES[key]
    names = lambda text: sorted(f for _, f, _, _ in string.Formatter().parse(text) if f)  # noqa: E731
    assert names(english) == names(chinese) and CJK.search(chinese)
    assert mismatches(english, chinese) == []


def test_a_missing_translation_falls_back_to_english_under_a_marker(tmp_path):
    folder = tmp_path / "problems" / "attention"
    shutil.copytree(builtin_root() / "problems" / "attention", folder)
    (folder / "zh.yaml").unlink(missing_ok=True)
    spec = Catalog(tmp_path, with_packs=False).spec("attention", localized=False)
    shown = localize(spec, "zh")
    assert shown.prompt.startswith(f"**{MISSING}**") and spec.prompt in shown.prompt
    assert localize(spec, "en") is spec


def test_the_language_comes_from_lang_then_drill_lang_then_config(monkeypatch):
    pid = TRANSLATED[0] if TRANSLATED else "attention"
    english_title = CATALOG.spec(pid, localized=False).title
    assert english_title in drill("show", pid).output
    assert drill("config", "lang", "zh").exit_code == 0
    chinese = drill("show", pid).output
    assert MISSING in chinese or CJK.search(chinese.split("\n")[0])
    assert english_title in drill("show", pid, "--lang", "en").output.split("\n")[0]
    monkeypatch.setenv("DRILL_LANG", "en")                       # the variable wins over the stored setting
    assert english_title in drill("show", pid).output.split("\n")[0]
    assert drill("show", pid, "--lang", "zh").output == chinese   # and --lang over the variable
    assert "lang       en" in drill("config").output
    assert drill("show", pid, "--lang", "fr").exit_code == 2


@pytest.mark.parametrize("pid", TRANSLATED)
def test_chinese_wraps_inside_a_panel_at_80_columns_and_loses_nothing(pid):
    spec = localize(CATALOG.spec(pid, localized=False), "zh")
    console = Console(width=80, record=True, color_system=None)
    console.print(prompt(spec))
    lines = console.export_text().splitlines()
    assert max(console.measure(line).maximum for line in lines) <= 80
    prose = re.sub(r"```.*?```", "", spec.prompt, flags=re.S)
    assert Counter(CJK.findall("".join(lines))) == Counter(CJK.findall(prose + spec.title))
