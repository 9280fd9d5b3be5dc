"""The parent's handle on a grading server (`drillcli.server`), and the scratch folders
that grades run in.

A cold `drill grade` starts a server, sends one request and closes it; `drill watch`, a
review session, `drill check` and the test suite keep one warm and send many. Either way
the request carries the case inputs only and the server's environment carries no drill
state paths. A server that died (or was killed with its grade) is restarted on the next
request.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from drillcli.catalog import PACKAGE_DIR

IMPORT_TIMEOUT_S = 120.0    # a server's imports (torch) on a loaded machine
REPLY_SLACK_S = 90.0        # beyond the server's own deadlines (setup 60 s, grace 2 s) before giving up on it
STATE_VARIABLES = ("DRILL_HOME", "DRILL_WORKSPACE")


class WorkerError(Exception):
    """The grading server could not start or stopped answering; the message says why."""


def scratch_root() -> Path:
    """This user's folder for grade folders, private to them."""
    root = Path(tempfile.gettempdir()) / f"drill-{os.getuid()}"
    root.mkdir(mode=0o700, exist_ok=True)
    return root


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep() -> None:
    """Remove scratch folders left by drill processes that were killed (named <kind>-<pid>-...)."""
    for folder in scratch_root().iterdir():
        parts = folder.name.split("-")
        if len(parts) >= 3 and parts[1].isdigit() and int(parts[1]) != os.getpid() and not _alive(int(parts[1])):
            shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def scratch(kind: str) -> Iterator[Path]:
    """A fresh folder, removed afterwards whatever happened in it."""
    folder = Path(tempfile.mkdtemp(prefix=f"{kind}-{os.getpid()}-", dir=scratch_root()))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def server_env() -> dict[str, str]:
    """The parent's environment without drill's state paths, with the package importable."""
    env = {k: v for k, v in os.environ.items() if k not in STATE_VARIABLES}
    root = str(PACKAGE_DIR.parent)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


class WorkerProcess:
    """One grading server: started on demand, one request at a time, restarted if it died."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.ready = False
        self.busy = False    # a request is in flight
        self.buffer = b""

    def __enter__(self) -> WorkerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Spawn the server if none is running; its imports overlap the caller's work."""
        if self.proc is not None and self.proc.poll() is None:
            return
        self.close()   # a server that died: release its pipes
        sweep()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "drillcli.server"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, cwd=scratch_root(), env=server_env())
        self.ready, self.buffer = False, b""

    def run(self, request: dict[str, Any]) -> dict[str, Any]:
        """Send one grade request and wait for its reply: {"returncode", "killed"}."""
        self.start()
        assert self.proc is not None and self.proc.stdin is not None
        if not self.ready:
            hello = self._reply(IMPORT_TIMEOUT_S, "start")
            if "error" in hello:
                self.close()
                raise WorkerError(hello["error"])
            self.ready = True
        self.busy = True   # until the reply: an interrupted request leaves it set, so close() lets the server clean up
        try:
            self.proc.stdin.write((json.dumps(request) + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            self.close()
            raise WorkerError("the grading process ended before it got the request") from None
        reply = self._reply(request["time_limit_s"] + REPLY_SLACK_S, "grade")
        self.busy = False
        return reply

    def _reply(self, timeout_s: float, what: str) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout_s
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([fd], [], [], max(remaining, 0))
            chunk = os.read(fd, 65536) if ready else None
            if not chunk:
                self.close()
                why = "stopped answering" if chunk is None else "ended unexpectedly"
                raise WorkerError(f"the grading process {why} during {what}")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def close(self) -> None:
        """Stop the server. Idle, it is killed outright (its grades are all reaped); with a
        grade in flight, closing stdin lets it kill that grade's processes first."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        try:
            if not self.busy:
                proc.kill()
            if proc.stdin is not None:
                proc.stdin.close()
            proc.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait()
        finally:
            self.busy = False
            if proc.stdout is not None:
                proc.stdout.close()
