"""Faults end in a message: a damaged database or a full disk while recording a grade (the
verdict is still shown, nothing recorded before is lost), and Ctrl-C at any moment after
drill's own code starts."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from drillcli import paths
from drillcli.store import GradeRecord, Store, database_error

SOLUTION = Path("solutions/attention.py").resolve()
DRILL = str(Path(sys.executable).parent / "drill")   # the console script a user runs
PAGE = 4096


def _drill(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "drillcli", *args], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "100"})


MARK = "MIDDLE-OF-THE-DB"


def _history(n: int) -> Path:
    """A database of `n` closed attempts at other problems around one open attempt at
    attention (in the middle of the file, its code hash is MARK), closed."""
    store = Store(paths.db_path())
    for i in range(n):
        if i == n // 2:
            store.start_attempt("attention", MARK, 1.0)
        attempt = store.start_attempt(f"problem-{i % 50}", f"{i:016x}", 1.0)
        store.close_attempt(attempt, "abandoned", 2.0)
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return paths.db_path()


def test_a_damaged_page_in_the_middle_still_shows_the_verdict_then_says_so():
    db = _history(3000)
    data = bytearray(db.read_bytes())
    page = data.index(MARK.encode()) // PAGE
    assert 2 < page < len(data) // PAGE - 2                 # in the middle, not the header
    data[page * PAGE:(page + 1) * PAGE] = bytes([0xA5]) * PAGE
    db.write_bytes(bytes(data))
    before = db.read_bytes()

    result = _drill("grade", "attention", "--file", str(SOLUTION))
    assert result.returncode == 3, result.stdout + result.stderr
    assert "cases passed" in result.stdout                               # the verdict first
    assert "not recorded" in result.stdout and "damaged" in result.stdout and ".recover" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert db.read_bytes() == before


def _real_full_disk_error() -> sqlite3.OperationalError:
    """The error SQLite raises when it cannot grow the file (SQLITE_FULL), made for real."""
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (x BLOB)")
    conn.execute("PRAGMA max_page_count = 8")
    try:
        while True:
            conn.execute("INSERT INTO t VALUES (?)", (bytes(PAGE),))
    except sqlite3.OperationalError as exc:
        return exc


def test_a_full_disk_is_called_a_full_disk():
    message = str(database_error(_real_full_disk_error(), Path("/data/drill.db")))
    assert "disk holding /data/drill.db is full" in message and "intact" in message


def test_a_full_disk_while_recording_shows_the_verdict_and_loses_nothing(monkeypatch):
    from typer.testing import CliRunner

    from drillcli.cli import app

    db = _history(5)
    before = Store(db).grades()
    error = _real_full_disk_error()

    def full(conn, *args):   # the grade's INSERT meets a full disk, inside the real transaction
        raise error

    monkeypatch.setattr("drillcli.store._grade_values", full)
    result = CliRunner().invoke(app, ["grade", "attention", "--file", str(SOLUTION)], env={"COLUMNS": "100"})
    assert result.exit_code == 3
    assert "cases passed" in result.output and "is full" in result.output and "not recorded" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert Store(db).grades() == before


def _startup_s() -> float:
    """How long the console script takes to reach drill's code (Python's start, site, the
    script's own imports): an interrupt before that is the interpreter's to report."""
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import re, sys\nfrom drillcli.launch import main"], check=True)
        runs.append(time.perf_counter() - start)
    return 1.5 * max(runs)   # with a margin: a loaded machine starts some runs slower


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT")
@pytest.mark.parametrize("command", [["list"], ["stats"], ["grade", "attention", "--file", str(SOLUTION)]])
def test_ctrl_c_in_the_first_100_ms_exits_130_without_a_traceback(command):
    start_s, rng = _startup_s(), random.Random(0)
    for _ in range(6):
        proc = subprocess.Popen([DRILL, *command], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(start_s + rng.uniform(0, 0.1))
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        if proc.returncode in (0, 1):   # it finished before the interrupt arrived
            continue
        # 130, or killed by the SIGINT itself when it lands as Python finishes: a shell says 130 to both
        assert proc.returncode in (130, -signal.SIGINT), (proc.returncode, err[-2000:])
        assert "Traceback" not in out + err, err[-2000:]
