"""The warm grading process: imports torch once, then forks one child per grade.

    python -m drillcli.server        (spawned by drillcli.runner.Worker)

Protocol on stdin/stdout, one JSON document a line: the server says {"ready": true} once
its imports are done (or {"error": ...} if they fail); then each request line is
answered by one reply line {"returncode": int | null, "killed": bool}.

The server never imports or runs user code and runs no torch operation, so the thread
pools a child creates are its own. Each child (`drillcli.worker.run`) gets its own
session and process group, limits, guards and folder. Whatever it does, the grade ends
with its process group killed and every process it left behind reaped: the server is a
child subreaper on Linux, so a grandchild that escaped into its own session comes back
here and is killed too. The server dies with its parent: stdin closing (the parent
exited or was killed) ends it, after it has killed the grade in flight.
"""

from __future__ import annotations

import json
import os
import select
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any

KILL_GRACE_S = 2.0       # the child enforces its own deadline; the server kills after this grace
SETUP_LIMIT_S = 60.0     # the child's setup (load inputs, time the reference) before user code
POLL_S = 0.005           # wait step where pidfd_open is missing (not Linux)
PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER = 1, 36


def _prctl(option: int, value: int) -> None:
    """Linux prctl, when there is one (loaded here, before any user code exists)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def preload() -> None:
    """Everything every child needs before user code, imported once here."""
    import numpy  # noqa: F401
    import torch  # noqa: F401

    from drillcli import containment, guard, harness, worker  # noqa: F401


def warm_imports(request: dict[str, Any]) -> None:
    """Imported here once, so that every child forked after it has them: the problem's
    grader, the modules it names in WARM_IMPORTS (slow, lazily imported by torch on its
    path), and the modules of its forbidden APIs (the child's guard replaces those
    functions, and `scipy.special` alone takes half a second to import)."""
    import importlib

    from drillcli.guard import resolve
    from drillcli.sources import import_from

    grader = import_from(request["package"], request["source_root"], "graders", request["module"])
    for name in getattr(grader, "WARM_IMPORTS", ()):
        importlib.import_module(name)
    for name in request.get("forbid", ()):
        resolve(name)


def idle_warmup() -> None:
    """After the first grade, while the user edits: what torch imports on a first backward,
    so that no later child pays for it. (A cold grade's server is killed before this ends.)"""
    from drillcli.harness import AUTOGRAD_IMPORTS

    for name in AUTOGRAD_IMPORTS:
        if name not in sys.modules:
            __import__(name)


class Channel:
    """Lines in on fd 0, lines out on fd 1; EOF on fd 0 means the parent is gone."""

    def __init__(self) -> None:
        self.buffer = b""

    def send(self, document: dict[str, Any]) -> None:
        data = (json.dumps(document) + "\n").encode()
        while data:
            data = data[os.write(1, data):]

    def readable(self) -> None:
        """Read what arrived; end the server on EOF."""
        chunk = os.read(0, 65536)
        if not chunk:
            raise ParentGone
        self.buffer += chunk

    def next_line(self) -> str:
        while b"\n" not in self.buffer:
            select.select([0], [], [])
            self.readable()
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode()


class ParentGone(Exception):
    """Stdin closed: the process that started the server has ended."""


def _child(request: dict[str, Any], status_w: int, server_pid: int) -> None:
    """In the forked child: detach, redirect, then run the grade. Never returns."""
    code = 70
    try:
        os.setsid()
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != server_pid:   # the server died before the line above
            os._exit(code)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_DFL)
        out_dir = request["out_dir"]
        out = os.open(os.path.join(out_dir, "output.txt"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.close(out)
        os.close(null)
        os.chdir(out_dir)
        from drillcli import worker

        job = worker.build if request.get("job") == "build" else worker.run
        job(request, status_w)
        code = 0
    except BaseException:  # noqa: BLE001 - drill's own failure: leave the traceback in output.txt
        traceback.print_exc()
    finally:
        os._exit(code)


def _descendants(pid: int) -> list[int]:
    """Direct children of `pid` (Linux /proc); empty elsewhere."""
    found = []
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def clean_up(group: int) -> None:
    """Kill the grade's process group and every process left behind, and reap them."""
    try:
        os.killpg(group, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    for _ in range(20):   # escaped grandchildren come back to us, the subreaper
        left = _descendants(os.getpid())
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        while True:
            try:
                reaped, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                reaped = 0
            if not reaped:
                break
        if not left:
            return
        time.sleep(0.01)


class Grade:
    """One child from fork to reaping, under the deadline the server enforces."""

    def __init__(self, request: dict[str, Any], channel: Channel):
        self.channel = channel
        self.limit_s = float(request["time_limit_s"])
        status_r, status_w = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            os.close(status_r)
            _child(request, status_w, os.getppid())
        os.close(status_w)
        self.status_r = status_r
        self.returncode: int | None = None

    def supervise(self) -> dict[str, Any]:
        """Wait for the child within setup + time limit + grace; kill it past that."""
        pidfd = _pidfd(self.pid)
        killed = False
        try:
            deadline = time.monotonic() + SETUP_LIMIT_S
            waiting_setup = True
            while self.returncode is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    killed = True
                    break
                watch = [0, self.status_r] if waiting_setup else [0]
                watch += [pidfd] if pidfd is not None else []
                ready, _, _ = select.select(watch, [], [], remaining if pidfd is not None else min(remaining, POLL_S))
                if 0 in ready:
                    self.channel.readable()
                if waiting_setup and self.status_r in ready:
                    waiting_setup = False   # user code starts now: its own deadline
                    deadline = time.monotonic() + self.limit_s + KILL_GRACE_S
                self._poll()
        finally:
            os.close(self.status_r)
            if pidfd is not None:
                os.close(pidfd)
            clean_up(self.pid)
            if self.returncode is None:
                self._wait()
        return {"returncode": self.returncode, "killed": killed}

    def _poll(self) -> None:
        pid, status = os.waitpid(self.pid, os.WNOHANG)
        if pid:
            self.returncode = os.waitstatus_to_exitcode(status)

    def _wait(self) -> None:
        try:
            _, status = os.waitpid(self.pid, 0)
            self.returncode = os.waitstatus_to_exitcode(status)
        except ChildProcessError:   # reaped by clean_up's sweep
            self.returncode = -signal.SIGKILL


def _pidfd(pid: int) -> int | None:
    try:
        return os.pidfd_open(pid)   # type: ignore[attr-defined]
    except (AttributeError, OSError):
        return None


def serve() -> None:
    channel = Channel()
    current: list[int] = []   # the child in flight, for shutdown

    def shutdown(*_: Any) -> None:
        for pid in current:
            clean_up(pid)
        os._exit(0)

    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGTERM, shutdown)
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    try:
        preload()
    except BaseException as exc:  # noqa: BLE001 - e.g. torch missing: tell the parent why
        channel.send({"error": f"the grading process could not start: {type(exc).__name__}: {exc}"})
        return
    channel.send({"ready": True})
    try:
        while True:
            request = json.loads(channel.next_line())
            if "module" in request:
                try:
                    warm_imports(request)
                except Exception:  # noqa: BLE001 - the child meets the same failure and reports it
                    pass
            grade = Grade(request, channel)
            current[:] = [grade.pid]
            reply = grade.supervise()
            current.clear()
            channel.send(reply)
            idle_warmup()
    except ParentGone:
        shutdown()


if __name__ == "__main__":
    serve()
    os._exit(0)
