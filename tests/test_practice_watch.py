"""Watch mode: which events count as a save, the debounce, saves made while a grade runs
(graded after it), re-grading on a save, and one real watchdog event (atomic rename)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from drillcli import paths
from drillcli.catalog import Catalog
from drillcli.watch import SaveTracker, Watcher, observer_for
from tests.practice_support import drill, practice_env, store, verdict  # noqa: F401


@dataclass
class Event:
    event_type: str
    src_path: str
    dest_path: str = ""
    is_directory: bool = False


class FakeClock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def tracker(tmp_path: Path) -> SaveTracker:
    return SaveTracker(tmp_path / "attention.py", debounce_s=0.3, monotonic=FakeClock())


def test_saves_in_place_and_renames_onto_the_file_count(tracker):
    target = str(tracker.target)
    assert tracker.concerns(Event("modified", target))
    assert tracker.concerns(Event("closed", target))
    assert tracker.concerns(Event("moved", target + ".swp", target))       # write temp, rename over
    assert not tracker.concerns(Event("modified", target + ".swp"))
    assert not tracker.concerns(Event("opened", target))
    assert not tracker.concerns(Event("deleted", target))
    assert not tracker.concerns(Event("modified", str(tracker.target.parent), is_directory=True))


def test_debounce_waits_for_quiet(tracker):
    clock = tracker.monotonic
    tracker.saw(Event("modified", str(tracker.target)))
    assert not tracker.ready()
    clock.t += 0.2
    tracker.saw(Event("modified", str(tracker.target)))     # a burst of events from one save
    clock.t += 0.2
    assert not tracker.ready()
    clock.t += 0.15
    assert tracker.ready()


def test_a_save_during_a_grade_is_graded_after_it(tracker):
    tracker.begin_grade()
    tracker.saw(Event("modified", str(tracker.target)))
    tracker.monotonic.t += 1
    assert not tracker.ready()          # never two grades at once
    tracker.end_grade()
    assert tracker.ready()


def _watcher(tracker_path: Path, grades: list) -> Watcher:
    spec = Catalog().spec("attention")
    tracker = SaveTracker(tracker_path, debounce_s=0.3, monotonic=FakeClock())

    def grade(spec, path):
        return grades.pop(0)

    return Watcher(store(), spec, tracker_path, tracker, grade)


def test_a_save_regrades_records_and_reports_the_first_full_pass():
    drill("start", "attention")
    path = paths.workspace_file("attention")
    watcher = _watcher(path, [verdict(passed=1), verdict(passed=3)])
    save = Event("modified", str(path))

    watcher.tracker.saw(save)
    assert not watcher.step()                                # still inside the debounce
    watcher.tracker.monotonic.t += 0.5
    assert not watcher.step() and watcher.grades == 1        # graded: 1/3
    assert "1/3 cases passed" in str(watcher._last_verdict())

    watcher.tracker.saw(save)
    watcher.tracker.monotonic.t += 0.5
    assert not watcher.step() and watcher.grades == 1        # same content: not graded again

    path.write_text(path.read_text() + "\n# edited\n")
    watcher.tracker.saw(save)
    watcher.tracker.monotonic.t += 0.5
    assert watcher.step() and watcher.grades == 2            # all pass: bell and green
    assert watcher.view().border_style == "green"
    assert [g.passed_cases for g in store().grades("attention")] == [1, 3]
    assert store().latest_attempt("attention").outcome == "passed"


def test_the_timer_reads_the_injected_clock(monkeypatch):
    from tests.practice_support import at

    drill("start", "attention")
    at(monkeypatch, minutes=12, seconds=5)
    watcher = _watcher(paths.workspace_file("attention"), [])
    assert "12m05s / 10m00s" in str(watcher.view().renderable.renderables[0])
    assert "in progress: attention  12m05s / 10m00s" in drill().output


@pytest.mark.parametrize("poll", [False, True])
def test_a_real_save_by_rename_reaches_the_tracker(tmp_path, poll):
    target = tmp_path / "attention.py"
    target.write_text("x = 1\n")
    tracker = SaveTracker(target, debounce_s=0.0)
    observer = observer_for(tracker, poll=poll)
    observer.start()
    try:
        temp = tmp_path / ".attention.py.tmp"
        temp.write_text("x = 2\n")
        os.replace(temp, target)
        assert tracker.wake.wait(timeout=10), "no event within 10 s"
    finally:
        observer.stop()
        observer.join(timeout=5)
    assert tracker.ready()
