"""`drill watch`: re-grade on every save of the workspace file.

watchdog watches the file's folder (editors that save by writing a temporary file and
renaming it over the original are seen as a move), saves are debounced, a save made
while a grade runs triggers another grade after it (so the screen always ends on the
verdict of the file as it is on disk), and `--poll` uses watchdog's polling observer
for file systems without events. Grades go to one warm grading server, started with
the watch (and restarted if it dies), so a save costs only the user's compute. The
live view shows the timer against the target, the last verdict, and turns green with
a bell when every case passes.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from rich.console import Console, Group
from rich.panel import Panel
from rich.text import Text

from drillcli import clock, workspace
from drillcli.render import timer_text
from drillcli.spec import Spec

if TYPE_CHECKING:
    from drillcli.store import ReviewRecord, Store
    from drillcli.verdict import Verdict

DEBOUNCE_S = 0.08          # quiet time after the last save event before grading (an editor's
                           # save is a burst of events within a few milliseconds)
TICK_S = 0.25              # how often the live timer redraws
POLL_INTERVAL_S = 0.5      # --poll: how often the polling observer scans the folder
SAVE_EVENTS = {"modified", "created", "moved", "closed"}


@dataclass
class SaveTracker:
    """Debounce for save events, fed by watchdog's thread and read by the grading loop.

    `monotonic` is injectable so tests drive it without sleeping.
    """

    target: Path
    debounce_s: float = DEBOUNCE_S
    monotonic: Callable[[], float] = time.monotonic
    grading: bool = False
    last_event: float | None = None
    wake: threading.Event = field(default_factory=threading.Event)

    def concerns(self, event: Any) -> bool:
        """A save of the target: written in place, or a temporary file renamed onto it."""
        if event.is_directory or event.event_type not in SAVE_EVENTS:
            return False
        paths = [event.src_path, getattr(event, "dest_path", "")] if event.event_type == "moved" else [event.src_path]
        return any(p and Path(str(p)).name == self.target.name for p in paths)

    def saw(self, event: Any) -> None:
        """Note a save; one during a grade is graded after it."""
        if not self.concerns(event):
            return
        self.last_event = self.monotonic()
        self.wake.set()

    def ready(self) -> bool:
        """A save is pending and the file has been quiet for the debounce time."""
        return (not self.grading and self.last_event is not None
                and self.monotonic() - self.last_event >= self.debounce_s)

    def wait_s(self) -> float:
        """How long the grading loop may sleep: until a pending save's debounce ends, else a tick."""
        if self.last_event is None or self.grading:
            return TICK_S
        return max(0.0, min(TICK_S, self.last_event + self.debounce_s - self.monotonic()))

    def prime(self) -> None:
        """Act as if the file had just been saved and the debounce had passed."""
        self.last_event = self.monotonic() - self.debounce_s

    def begin_grade(self) -> None:
        self.grading, self.last_event = True, None
        self.wake.clear()

    def end_grade(self) -> None:
        self.grading = False


def handler_for(tracker: SaveTracker) -> Any:
    """A watchdog event handler feeding the tracker (imports watchdog)."""
    from watchdog.events import FileSystemEventHandler

    class SaveHandler(FileSystemEventHandler):
        def on_any_event(self, event: Any) -> None:
            tracker.saw(event)

    return SaveHandler()


def observer_for(tracker: SaveTracker, poll: bool) -> Any:
    """An observer on the target's folder (not the file: renames replace the file)."""
    if poll:
        from watchdog.observers.polling import PollingObserver

        observer = PollingObserver(timeout=POLL_INTERVAL_S)
    else:
        from watchdog.observers import Observer

        observer = Observer()
    observer.schedule(handler_for(tracker), str(tracker.target.parent), recursive=False)
    return observer


@dataclass
class Watcher:
    """The grading side of watch mode; `grade_file` is injectable for tests."""

    store: Store
    spec: Spec
    path: Path
    tracker: SaveTracker
    grade_file: Callable[[Spec, Path], Verdict]
    verdict: Verdict | None = None
    grades: int = 0
    graded_hash: str | None = None
    review: ReviewRecord | None = None     # set when a passing grade closed the attempt

    def step(self, announce: Callable[[], None] | None = None) -> bool:
        """Grade if a debounced save is pending and the file changed (calling `announce`
        first); True when this grade made every case pass."""
        if not self.tracker.ready():
            return False
        self.tracker.begin_grade()
        try:
            if announce is not None:
                announce()
            if not self.path.exists() or workspace.code_hash(self.path) == self.graded_hash:
                return False
            return self.grade()
        finally:
            self.tracker.end_grade()

    def grade(self) -> bool:
        from drillcli.practice import record_verdict

        was_ok = self.verdict is not None and self.verdict.ok
        self.verdict = self.grade_file(self.spec, self.path)
        self.graded_hash = self.verdict.code_hash or workspace.code_hash(self.path)
        graded = record_verdict(self.store, self.spec, self.verdict, self.path)
        self.review = graded.review or self.review
        self.grades += 1
        return self.verdict.ok and not was_ok

    def run(self, stop: threading.Event, refresh: Callable[[], None], on_pass: Callable[[], None]) -> None:
        """Grade now, then after every save, until `stop` is set."""
        self.tracker.prime()
        while not stop.is_set():
            if self.step(announce=refresh):
                on_pass()
            refresh()
            self.tracker.wake.wait(self.tracker.wait_s())
            self.tracker.wake.clear()

    def view(self) -> Panel:
        attempt = self.store.latest_attempt(self.spec.id)
        parts: list = []
        if attempt is not None:
            end = attempt.closed_at if attempt.closed_at is not None else clock.timestamp()
            parts.append(Text("timer  ").append_text(timer_text(end - attempt.started_at,
                                                                self.spec.target_minutes * 60)))
        parts.append(self._last_verdict())
        parts.append(Text(f"watching {self.path}  ·  Ctrl-C to stop", style="dim"))
        ok = self.verdict is not None and self.verdict.ok
        return Panel(Group(*parts), title=f"drill watch {self.spec.id}", title_align="left",
                     border_style="green" if ok else "red" if self.verdict else "blue")

    def _last_verdict(self) -> Text:
        if self.tracker.grading:
            return Text("grading...", style="cyan")
        if self.verdict is None:
            return Text("save the file to grade it")
        v = self.verdict
        text = Text(f"{v.passed}/{v.total} cases passed", style="bold green" if v.ok else "bold red")
        if not v.ok:
            text.append(f"  ·  {v.explanation}", style="red")
            first = v.first_failure()
            if first is not None:
                text.append(f"\nmost telling failure {first.name}: {first.message}")
            elif v.message:
                text.append(f"\n{v.message}")
        text.append(f"  (grade #{self.grades})", style="dim")
        if self.review is not None:
            from drillcli.render import review_line

            text.append("\n").append_text(review_line(self.review))
        return text


def run_watch(store: Store, spec: Spec, path: Path, poll: bool, console: Console) -> None:
    """Grade now, then on every save, until Ctrl-C."""
    from functools import partial

    from rich.live import Live

    from drillcli.runner import grade
    from drillcli.worker_process import WorkerProcess

    tracker = SaveTracker(path)
    worker = WorkerProcess()
    worker.start()
    watcher = Watcher(store, spec, path, tracker, partial(grade, worker=worker))
    observer = observer_for(tracker, poll)
    observer.start()
    try:
        with Live(watcher.view(), console=console, refresh_per_second=4, transient=False) as live:
            watcher.run(threading.Event(), lambda: live.update(watcher.view(), refresh=True), console.bell)
    except KeyboardInterrupt:
        pass
    finally:
        observer.stop()
        observer.join(timeout=2)
        worker.close()
    console.print(f"stopped watching {path}")
