"""Watch mode: which events count as a save, the debounce, saves made while a grade runs
(graded after it), re-grading on a save, and one real watchdog event (atomic rename)."""

from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from drillcli import paths
from drillcli.catalog import Catalog
from drillcli.watch import SaveTracker, Watcher, observer_for
from drillcli.workspace import code_hash, hash_bytes
from tests.support import ATTENTION
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


# -- the screen ends on the verdict of the file as it is on disk ------------------------

FIX = ATTENTION
BUG = FIX.replace(" / math.sqrt(q.shape[-1])", "")


@contextmanager
def live_watcher(worker, grade_delay_s: float = 0.0):
    """A real watch on the workspace file (watchdog observer, warm grading server) in a
    thread; `grade_delay_s` holds each verdict back so that saves land while it runs."""
    from drillcli.runner import grade

    def slow_grade(spec, path):
        verdict = grade(spec, path, worker=worker)
        time.sleep(grade_delay_s)
        return verdict

    drill("start", "attention")
    path = paths.workspace_file("attention")
    tracker = SaveTracker(path, debounce_s=0.05)
    watcher = Watcher(store(), Catalog().spec("attention"), path, tracker, slow_grade)
    observer, stop = observer_for(tracker, poll=False), threading.Event()
    observer.start()
    thread = threading.Thread(target=watcher.run, args=(stop, lambda: None, lambda: None), daemon=True)
    thread.start()
    try:
        _settle(watcher)
        yield watcher
    finally:
        stop.set()
        tracker.wake.set()
        thread.join(timeout=10)
        observer.stop()
        observer.join(timeout=5)


def _settle(watcher: Watcher, timeout_s: float = 30.0) -> None:
    """Wait until the watcher has graded the file as it is on disk and nothing is pending."""
    deadline = time.monotonic() + timeout_s
    while True:
        idle = not watcher.tracker.grading and watcher.tracker.last_event is None
        if idle and watcher.graded_hash == code_hash(watcher.path):
            time.sleep(0.3)   # any event still in flight would show up here
            if not watcher.tracker.grading and watcher.tracker.last_event is None:
                return
        assert time.monotonic() < deadline, "the watcher never settled"
        time.sleep(0.02)


def _save(path: Path, text: str, rename: bool = False) -> None:
    if rename:   # as editors do: write a temporary file, rename it over the original
        temp = path.with_name(f".{path.name}.tmp")
        temp.write_text(text)
        os.replace(temp, path)
    else:
        path.write_text(text)


def test_a_save_during_a_grade_is_graded_after_it(warm_worker):
    with live_watcher(warm_worker, grade_delay_s=0.5) as watcher:
        _save(watcher.path, BUG)
        time.sleep(0.2)                     # the grade of BUG is running
        _save(watcher.path, FIX)
        _settle(watcher)
        assert watcher.verdict.ok and watcher.verdict.code_hash == hash_bytes(FIX.encode())


def test_saves_during_grades_end_on_the_verdict_of_the_file_on_disk(warm_worker):
    with live_watcher(warm_worker, grade_delay_s=0.5) as watcher:
        _save(watcher.path, BUG)
        time.sleep(0.2)                     # the grade of BUG is running
        _save(watcher.path, FIX)
        time.sleep(0.6)                     # the grade of FIX is running
        _save(watcher.path, BUG)
        _settle(watcher)
        assert watcher.verdict.code_hash == code_hash(watcher.path) and not watcher.verdict.ok
        hashes = {g.code_hash for g in store().grades("attention")}
        assert hashes <= {hash_bytes(t.encode()) for t in (BUG, FIX)} | {code_hash(Catalog().spec("attention").folder / "stub.py")}


@pytest.mark.parametrize("rename", [False, True], ids=["in-place", "editor-rename"])
def test_twenty_rapid_saves_end_on_the_last_one(warm_worker, rename):
    with live_watcher(warm_worker, grade_delay_s=0.1) as watcher:
        for i in range(20):
            _save(watcher.path, FIX if i % 2 else BUG, rename)
            time.sleep(0.03)
        _settle(watcher)
        assert watcher.verdict.ok and watcher.verdict.code_hash == hash_bytes(FIX.encode())
