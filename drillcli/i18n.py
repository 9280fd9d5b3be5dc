"""English and Chinese. A problem's Chinese text lives in `problems/<id>/zh.yaml` (title,
prompt, hints, followups), a concept topic's in `concepts/zh/<topic>.yaml`; the practice
loop's own messages in `drillcli/messages.py`. English is the default and the fallback: a
missing translation shows the English text under a visible marker.

The language: `--lang` on a command, else DRILL_LANG, else `drill config lang`, else English.
Code blocks, inline code and numbers must be identical in both languages (`mismatches`)."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

from drillcli.paths import data_dir

LANGUAGES = ("en", "zh")
MISSING = "[中文翻译缺失，以下为英文原文]"    # shown above English text that has no Chinese yet
FENCE = re.compile(r"```.*?```", re.S)
INLINE = re.compile(r"`[^`\n]+`")
NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
# A line break inside a Chinese paragraph renders as a space (Markdown joins lines with one).
CJK_BREAK = re.compile(r"(?<=[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef])\n[ \t]*(?=[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef])")


def config_file() -> Path:
    return data_dir() / "config.json"


def stored_language() -> str | None:
    try:
        value = json.loads(config_file().read_text(encoding="utf-8")).get("lang")
    except (OSError, ValueError, AttributeError):
        return None
    return value if value in LANGUAGES else None


def store_language(lang: str) -> None:
    try:
        config = json.loads(config_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        config = {}
    config_file().parent.mkdir(parents=True, exist_ok=True)
    config_file().write_text(json.dumps({**config, "lang": lang}, indent=1), encoding="utf-8")


_chosen: str | None = None


def choose(lang: str | None) -> None:
    """Set the language for this process (the --lang option)."""
    global _chosen
    _chosen = lang


def language() -> str:
    env = os.environ.get("DRILL_LANG")
    return _chosen or (env if env in LANGUAGES else None) or stored_language() or "en"


def invariants(text: str) -> tuple[list[str], Counter, Counter]:
    """What must not change in translation: fenced code blocks (in order), inline code spans
    and numbers outside code (as multisets)."""
    blocks = FENCE.findall(text)
    prose = FENCE.sub(" ", text)
    spans = Counter(INLINE.findall(prose))
    return blocks, spans, Counter(NUMBER.findall(INLINE.sub(" ", prose)))


def mismatches(english: str, chinese: str) -> list[str]:
    """How a translation differs from the English in code or numbers; empty when faithful."""
    (eb, es, en), (zb, zs, zn) = invariants(english), invariants(chinese)
    out = []
    if eb != zb:
        out.append(f"code blocks differ ({len(eb)} in English, {len(zb)} in Chinese, or their text)")
    for label, a, b in (("inline code", es, zs), ("numbers", en, zn)):
        if a != b:
            out.append(f"{label} differ: only in English {sorted((a - b).elements())}, "
                       f"only in Chinese {sorted((b - a).elements())}")
    return out


def _load(path: Path) -> dict[str, Any] | None:
    import yaml

    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None
    return raw if isinstance(raw, dict) else None


def problem_translation(folder: Path) -> dict[str, Any] | None:
    return _load(folder / "zh.yaml")


def join_cjk_lines(markdown: str) -> str:
    """Join the lines of Chinese paragraphs outside code blocks, so no stray space shows."""
    parts = re.split(r"(```.*?```)", markdown, flags=re.S)
    return "".join(part if part.startswith("```") else CJK_BREAK.sub("", part) for part in parts)


def localize(spec, lang: str | None = None):
    """The spec in `lang` (default: the chosen language); English under the MISSING marker
    where there is no translation."""
    from drillcli.spec import Followup

    if (lang or language()) == "en":
        return spec
    zh = problem_translation(spec.folder)
    if zh is None:
        return replace(spec, prompt=f"**{MISSING}**\n\n{spec.prompt}")
    followups = tuple(Followup(f["q"], f["a"], tuple(f.get("points", ()))) for f in zh.get("followups", ()))
    return replace(spec, title=zh.get("title", spec.title), prompt=join_cjk_lines(zh.get("prompt", spec.prompt)),
                   hints=tuple(zh.get("hints", spec.hints)),
                   followups=followups if len(followups) == len(spec.followups) else spec.followups)


def topic_translation(topic_file: Path) -> dict[str, dict[str, Any]]:
    """Card id -> its Chinese {q, a, points} for one deck topic."""
    zh = _load(topic_file.parent / "zh" / topic_file.name) or {}
    return {c["id"]: c for c in zh.get("cards", []) if isinstance(c, dict) and "id" in c}


def _field(field: str, english: str, chinese: Any) -> list[str]:
    if not isinstance(chinese, str) or not chinese.strip():
        return [f"{field}: missing"]
    return [f"{field}: {m}" for m in mismatches(english, chinese)]


def text_issues(english: dict[str, Any], chinese: dict[str, Any], where: str = "") -> list[str]:
    """Every way a translated mapping differs from the English: a missing text, a different
    number of hints or points, changed code or numbers."""
    issues = []
    for key in ("title", "q", "a", "prompt"):
        if key in english:
            issues += _field(f"{where}{key}", english[key], chinese.get(key))
    for key in ("hints", "points"):
        if key not in english:
            continue
        en, zh = english[key], chinese.get(key) or []
        if len(en) != len(zh):
            issues.append(f"{where}{key}: {len(en)} in English, {len(zh)} in Chinese")
            continue
        for n, (a, b) in enumerate(zip(en, zh)):
            issues += _field(f"{where}{key}[{n}]", a, b)
    return issues


def problem_issues(spec) -> list[str]:
    """What the problem's Chinese lacks or gets wrong; ["no zh.yaml"] when it has none."""
    zh = problem_translation(spec.folder)
    if zh is None:
        return ["no zh.yaml"]
    english = {"title": spec.title, "prompt": spec.prompt, "hints": list(spec.hints)}
    issues = text_issues(english, zh)
    fus = zh.get("followups") or []
    if len(fus) != len(spec.followups):
        return issues + [f"followups: {len(spec.followups)} in English, {len(fus)} in Chinese"]
    for i, (f, g) in enumerate(zip(spec.followups, fus)):
        issues += text_issues({"q": f.q, "a": f.a, "points": list(f.points)}, g if isinstance(g, dict) else {},
                              f"followups[{i}].")
    return issues


def topic_issues(topic_file: Path) -> list[str]:
    """What a deck topic's Chinese lacks or gets wrong."""
    import yaml

    english = yaml.safe_load(topic_file.read_text(encoding="utf-8"))
    zh = topic_translation(topic_file)
    if not zh:
        return [f"no zh/{topic_file.name}"]
    issues = []
    for card in english["cards"]:
        if card["id"] not in zh:
            issues.append(f"{card['id']}: missing")
        else:
            issues += text_issues({k: card[k] for k in ("q", "a", "points")}, zh[card["id"]], f"{card['id']}.")
    return issues
