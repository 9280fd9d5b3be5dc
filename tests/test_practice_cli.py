"""Plain `drill`, config, stats, export, --edit, and the commands that must start
without importing torch (or fsrs / watchdog / numpy)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from collections import Counter
from datetime import date, timedelta

import pytest

from drillcli import paths, stats
from tests.practice_support import at, drill, fake_grade, practice_env, verdict  # noqa: F401


def test_plain_drill_says_what_to_do_next(monkeypatch, fake_grade):
    first = drill()
    assert first.exit_code == 0 and "nothing due today" in first.output and "drill next" in first.output
    drill("start", "attention")
    at(monkeypatch, minutes=3)
    fake_grade.append(verdict(passed=1))
    drill("grade")
    busy = drill().output
    assert "in progress: attention  3m00s / 10m00s" in busy and "last grade 1/3" in busy
    assert "next: drill grade" in busy
    at(monkeypatch, minutes=4)
    drill("grade")                                         # passes: Easy, due in 8 days
    at(monkeypatch, days=9)
    due = drill().output
    assert "due today: 1 problem, about 10 min (attention)" in due and "next: drill review" in due


def test_config_shows_both_paths(tmp_path):
    result = drill("config")
    assert str(paths.db_path()) in result.output and str(paths.workspace()) in result.output
    assert "schema     version 3" in result.output


def test_start_edit_opens_the_editor(monkeypatch, tmp_path):
    log = tmp_path / "editor.log"
    monkeypatch.setenv("EDITOR", f"{sys.executable} -c \"import sys; open('{log}', 'w').write(sys.argv[1])\"")
    assert drill("start", "attention", "--edit").exit_code == 0
    assert log.read_text() == str(paths.workspace_file("attention"))


def test_start_edit_without_an_editor_says_how():
    result = drill("start", "attention", "--edit")
    assert result.exit_code == 2 and "set $EDITOR" in result.output


def _history(monkeypatch) -> None:
    """Three attempts at attention over three days: 12 min (over target), 6 min, 4 min."""
    for day, minutes in ((0, 12), (1, 6), (2, 4)):
        at(monkeypatch, days=day)
        drill("start", "attention")
        at(monkeypatch, days=day, minutes=minutes)
        drill("grade")


def test_stats_overview(monkeypatch, fake_grade):
    _history(monkeypatch)
    out = drill("stats").output
    row = next(line for line in out.splitlines() if line.startswith("│ attention"))
    assert "3/3" in row and "│        3 │" in row and "6m00s / 10m00s" in row
    assert "streak: 3 days" in out and "activity, last 12 weeks" in out
    assert any(line.startswith("│ attention ") and "1/" in line for line in out.split("by family")[1].splitlines())


def test_stats_for_one_problem_has_history_and_a_chart(monkeypatch, fake_grade):
    _history(monkeypatch)
    out = drill("stats", "attention").output
    assert out.count("passed") >= 3 and "Hard" in out and "Good" in out and "Easy" in out
    chart = out.split("time to solve")[1].splitlines()
    bars = [line for line in chart if line.startswith("#")]
    assert len(bars) == 3 and bars[0].count("█") > bars[1].count("█") > bars[2].count("█")
    assert "│" in bars[1]                                  # the target marker


def test_streak_and_heatmap():
    today = date(2026, 3, 4)
    days = Counter({today: 2, today - timedelta(days=1): 1, today - timedelta(days=3): 5})
    assert stats.streak(days, today) == 2
    assert stats.streak(days, today + timedelta(days=1)) == 2     # today not practised yet
    assert stats.streak(days, today + timedelta(days=2)) == 0
    text = stats.heatmap(days, today, weeks=2)
    assert text.plain.splitlines()[1].startswith("Mon ■ ■")
    styles = {text.plain[s.start:s.end]: s.style for s in text.spans if s.style == "bright_green"}
    assert styles                                                 # 5 grades on one day: the top level


def test_export_csv_and_json(monkeypatch, fake_grade, tmp_path):
    _history(monkeypatch)
    rows = list(csv.DictReader(io.StringIO(drill("export", "--format", "csv").output)))
    assert [r["elapsed_s"] for r in rows] == ["720.0", "360.0", "240.0"]
    assert rows[0]["graded_at"] == "2026-03-02T09:12:00+00:00"
    target = tmp_path / "history.json"
    assert drill("export", "--format", "json", "-o", str(target)).exit_code == 0
    doc = json.loads(target.read_text())
    assert len(doc["attempts"]) == 3 and len(doc["grades"]) == 3
    assert [r["rating"] for r in doc["reviews"]] == [2, 3, 4]
    assert doc["reviews"][0]["target_s"] == 600 and doc["reviews"][0]["due_at"].endswith("+00:00")
    assert drill("export", "--format", "xml").exit_code == 2


LIGHT = ["--help", "list", "config", "stats", "review --list", ""]


@pytest.mark.parametrize("command", LIGHT)
def test_light_commands_do_not_import_heavy_modules(command, monkeypatch, fake_grade):
    drill("start", "attention")
    drill("grade")                                      # a card exists, so the views have something to show
    probe = ("import sys\nfrom drillcli.cli import app\n"
             "try:\n    app(sys.argv[1:])\nexcept SystemExit as e:\n    assert e.code in (0, None), e.code\n"
             "print(sorted(m for m in ('torch', 'numpy', 'fsrs', 'watchdog') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe, *command.split()], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
