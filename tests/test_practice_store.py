"""The database under stress: concurrent writers, kills and interrupts mid-write,
corrupt and future-version files, an unwritable data folder, the v1 -> v2 migration."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from drillcli import paths
from drillcli.store import MIGRATIONS, SCHEMA_VERSION, GradeRecord, Store
from tests.practice_support import db, drill, practice_env, store  # noqa: F401

WRITER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from drillcli.store import GradeRecord, Store
    s = Store(Path(sys.argv[1]))
    for i in range(int(sys.argv[3])):
        a = s.start_attempt(sys.argv[2], f"h{i}", float(i))
        s.record_grade(GradeRecord(sys.argv[2], float(i), i, 100, "failed", f"h{i}", a, 1.0))
        print(i, flush=True)
""")


def _python(*args: str) -> list[str]:
    return [sys.executable, "-c", WRITER, *args]


def test_concurrent_writers_never_see_database_is_locked():
    path = paths.db_path()
    procs = [subprocess.Popen(_python(str(path), f"p{n}", "150"), stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True) for n in range(3)]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], errors
    with db() as conn:
        assert conn.execute("SELECT problem, COUNT(*) FROM grades GROUP BY problem").fetchall() == [
            ("p0", 150), ("p1", 150), ("p2", 150)]
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_a_long_lived_connection_writes_after_others_did():
    """`drill watch` keeps its connection open while `drill grade` writes from another terminal."""
    watching = store()
    attempt = watching.start_attempt("attention", "h", 1.0)
    assert watching.open_attempt("attention").id == attempt
    other = subprocess.run(_python(str(paths.db_path()), "other", "50"), capture_output=True, text=True)
    assert other.returncode == 0, other.stderr
    watching.record_grade(GradeRecord("attention", 2.0, 3, 3, "passed", "h", attempt, 1.0), close=True)
    assert len(watching.grades()) == 51 and watching.attempt(attempt).outcome == "passed"


def test_a_writer_killed_mid_write_leaves_earlier_attempts_intact():
    path = paths.db_path()
    proc = subprocess.Popen(_python(str(path), "attention", "100000"), stdout=subprocess.PIPE, text=True)
    committed = [int(proc.stdout.readline()) for _ in range(200)]
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with db() as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    grades = store().grades("attention")
    assert len(grades) >= len(committed)
    assert [(g.passed_cases, g.code_hash) for g in grades[:200]] == [(i, f"h{i}") for i in committed]
    assert all(a.graded_at is not None for a in store().attempts("attention")[:200])


def test_an_interrupt_inside_a_write_rolls_the_whole_write_back(monkeypatch):
    s = store()
    first = s.start_attempt("attention", "h", 1.0)
    s.record_grade(GradeRecord("attention", 2.0, 1, 3, "failed", "h", first, 1.0))

    def interrupted(conn, review):
        raise KeyboardInterrupt

    monkeypatch.setattr("drillcli.store._write_review", interrupted)
    with pytest.raises(KeyboardInterrupt):
        s.record_grade(GradeRecord("attention", 3.0, 3, 3, "passed", "h", first, 2.0), close=True,
                       review=object())
    fresh = store()
    assert [g.passed_cases for g in fresh.grades()] == [1]
    assert fresh.attempt(first).is_open and fresh.attempt(first).passed_cases == 1
    with db() as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_a_corrupt_database_gets_a_message_and_is_not_touched():
    path = paths.db_path()
    path.parent.mkdir(parents=True)
    garbage = b"this is not a database\n" * 200
    path.write_bytes(garbage)
    for command in (["stats"], [], ["review", "--list"], ["start", "attention"]):
        result = drill(*command)
        assert result.exit_code == 2 and "is damaged" in result.output and "untouched" in result.output
    assert path.read_bytes() == garbage
    assert "is damaged" in drill("config").output


def test_a_corrupt_database_through_the_real_command():
    path = paths.db_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\x00garbage" * 1000)
    result = subprocess.run([sys.executable, "-m", "drillcli", "stats"], capture_output=True, text=True)
    assert result.returncode == 2 and "Traceback" not in result.stderr + result.stdout
    assert "DRILL_HOME" in result.stdout and path.exists()


def test_a_database_from_a_newer_drill_is_refused_untouched():
    path = paths.db_path()
    path.parent.mkdir(parents=True)
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE future (x)")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    before = path.read_bytes()
    result = drill("stats")
    assert result.exit_code == 2 and "newer drill" in result.output and "Upgrade drill" in result.output
    assert path.read_bytes() == before


def test_an_unwritable_data_folder_gets_a_message(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("DRILL_HOME", str(blocker / "home"))
    result = drill("stats")
    assert result.exit_code == 2 and "Set DRILL_HOME to a writable folder" in result.output


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_a_read_only_data_folder_gets_a_message(tmp_path, monkeypatch):
    home = tmp_path / "ro"
    home.mkdir(mode=0o500)
    monkeypatch.setenv("DRILL_HOME", str(home))
    result = drill("stats")
    assert result.exit_code == 2 and "writable folder" in result.output


def test_a_version_1_database_is_migrated_with_its_attempts():
    path = paths.db_path()
    path.parent.mkdir(parents=True)
    with sqlite3.connect(path) as conn:
        conn.executescript(MIGRATIONS[0])
        conn.execute("INSERT INTO attempts (problem, started_at, graded_at, elapsed_s, passed_cases, total_cases, "
                     "status, code_hash) VALUES ('attention', 10, 70, 60, 27, 27, 'passed', 'abc')")
        conn.execute("PRAGMA user_version = 1")
    s = Store(path)
    assert s.schema_version == SCHEMA_VERSION
    (grade,) = s.grades("attention")
    assert (grade.elapsed_s, grade.passed_cases, grade.status, grade.attempt_id) == (60, 27, "passed", 1)
    assert s.attempt(1).outcome == "passed"
