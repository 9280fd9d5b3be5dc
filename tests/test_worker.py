"""The grading worker: warm isolation, nothing outlives a grade or its parent, the answers
and the history are out of reach, the bytes graded are the bytes read, sources decode as
Python decodes them. Every test grades a real submission through the real server."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import pytest

from drillcli import paths
from drillcli.catalog import Catalog
from drillcli.runner import grade
from drillcli.store import Store
from drillcli.worker_process import WorkerProcess, scratch_root
from tests.support import ATTENTION, describe

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

SOLUTION = ATTENTION


def _running(pid: int) -> bool:
    """The process exists and is not a zombie (an init that does not reap, as in some
    containers, keeps zombies listed: they run nothing)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _gone(pid: int, within_s: float = 1.0) -> bool:
    """The process has stopped running within `within_s`."""
    deadline = time.monotonic() + within_s
    while _running(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _pids(path: Path) -> list[int]:
    return [int(line) for line in path.read_text().split()] if path.exists() else []


def _wait_for(path: Path, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not (path.exists() and path.read_text().strip()):
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


# -- a warm server isolates one grade from the next ----------------------------------

def test_a_submission_that_patches_torch_and_globals_cannot_affect_the_next_grade(grade_source):
    vandal = SOLUTION + """
import sys, torch, numpy, drillcli.harness, drillcli.compare
torch.softmax = lambda *a, **k: 0
torch.Tensor.softmax = lambda *a, **k: 0
numpy.array_equal = lambda *a, **k: True
drillcli.harness.to_numpy = lambda t: numpy.zeros(1)
sys.modules["math"] = None
sys.modules["torch.nn.functional"] = None
"""
    assert not grade_source("attention", vandal).ok
    verdict = grade_source("attention", SOLUTION)
    assert verdict.ok, describe(verdict)


# -- nothing outlives a grade ----------------------------------------------------------

SLEEPERS = """
import os, time
def _sleepers(record, n=10):
    for i in range(n):
        pid = os.fork()
        if pid == 0:
            if i == 0:
                os.setsid()        # one tries to escape the process group
            time.sleep(600)
            os._exit(0)
        with open(record, "a") as f:
            f.write(f"{pid}\\n")
"""


@linux_only
def test_sleeping_children_of_a_passing_submission_are_killed(grade_source, tmp_path):
    record = tmp_path / "pids"
    verdict = grade_source("attention", SLEEPERS + SOLUTION + f"\n_sleepers({str(record)!r})\n")
    assert verdict.ok, describe(verdict)
    pids = _pids(record)
    assert len(pids) == 10
    assert all(_gone(pid) for pid in pids), [p for p in pids if _running(p)]


@linux_only
def test_sleeping_children_of_a_looping_submission_are_killed(warm_worker, tmp_path):
    record = tmp_path / "pids"
    path = tmp_path / "loops.py"
    path.write_text(SLEEPERS + f"_sleepers({str(record)!r})\nwhile True:\n    pass\n")
    catalog = Catalog()
    spec = replace(catalog.spec("attention"), time_limit_s=1.0)
    verdict = grade(spec, path, catalog, worker=warm_worker)
    assert verdict.status == "timeout", describe(verdict)
    pids = _pids(record)
    assert len(pids) == 10 and all(_gone(pid) for pid in pids)


def test_scratch_folders_are_removed_and_leftovers_of_killed_runs_swept(tmp_path):
    dead = 2 ** 22 + 12345   # above the default pid_max: never a live process
    leftover = scratch_root() / f"grade-{dead}-leftover"
    leftover.mkdir()
    path = tmp_path / "solution.py"
    path.write_text(SOLUTION)
    catalog = Catalog()
    assert grade(catalog.spec("attention"), path, catalog).ok    # cold: starts (and sweeps) a server
    assert not leftover.exists()
    assert not list(scratch_root().glob(f"grade-{os.getpid()}-*"))


# -- the worker dies with its parent ---------------------------------------------------

STUBBORN = """
import os, signal
signal.signal(signal.SIGALRM, signal.SIG_IGN)
with open({record!r}, "w") as f:
    f.write(f"{{os.getpid()}} {{os.getppid()}}\\n")
while True:
    pass
"""


def _drill(*args: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "drillcli", *args], cwd=cwd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ.copy())


@linux_only
@pytest.mark.parametrize("command", ["grade", "watch"])
def test_kill_9_of_drill_leaves_no_worker_within_a_second(tmp_path, command):
    record = tmp_path / "pids"
    subprocess.run([sys.executable, "-m", "drillcli", "start", "attention"], check=True, capture_output=True,
                   env=os.environ.copy())
    paths.workspace_file("attention").write_text(STUBBORN.format(record=str(record)))
    drill = _drill(command, "attention", cwd=tmp_path)
    try:
        _wait_for(record)
        child, server = _pids(record)
        drill.kill()
        drill.wait()
        assert _gone(child) and _gone(server), "the grade outlived drill"
    finally:
        drill.kill()


# -- the submission cannot reach the answers or the history ----------------------------

def _answers() -> tuple[str, str]:
    catalog = Catalog()
    spec = catalog.spec("attention")
    return str(catalog.fixture_path(spec)), str(catalog.solution_path(spec))


ANSWER_ROUTES = {
    "np.load of the fixture": """
        import numpy as np
        def scaled_dot_product_attention(q, k, v, mask=None):
            data = np.load({fixture!r})
            return q, q
    """,
    "exec of the reference text": """
        g = {{}}
        exec(open({solution!r}).read(), g)
        scaled_dot_product_attention = g["scaled_dot_product_attention"]
    """,
    "the reference loaded under another name": """
        import importlib.util
        spec = importlib.util.spec_from_file_location("notes", {solution!r})
        notes = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(notes)
        scaled_dot_product_attention = notes.scaled_dot_product_attention
    """,
    "import guard removed from sys.meta_path": """
        import importlib, sys
        sys.meta_path[:] = [f for f in sys.meta_path if "Refuse" not in type(f).__name__]
        hidden = importlib.import_module("drillcli.sol" + "utions.attention")   # past the static check
        scaled_dot_product_attention = hidden.scaled_dot_product_attention
    """,
    "a symlink to the reference": """
        import os
        os.symlink({solution!r}, "copy.py")
        scaled_dot_product_attention = None
    """,
}


@pytest.mark.parametrize("route", ANSWER_ROUTES)
def test_every_route_to_the_answers_is_forbidden(grade_source, route):
    fixture, solution = _answers()
    verdict = grade_source("attention", ANSWER_ROUTES[route].format(fixture=fixture, solution=solution))
    assert verdict.status == "forbidden", describe(verdict)
    assert "not allowed while grading" in verdict.message + verdict.detail + "".join(
        c.message for c in verdict.cases)


DB_ATTACKS = {
    "delete rows": """
        import sqlite3
        sqlite3.connect({db!r}).execute("DELETE FROM grades")
    """,
    "zero the header": """
        with open({db!r}, "r+b") as f:
            f.write(bytes(100))
    """,
    "delete the file": """
        import os
        os.remove({db!r})
    """,
    "rm in a shell": """
        import subprocess
        subprocess.run(["rm", "-f", {db!r}])
    """,
    "native code": """
        import ctypes
        ctypes.CDLL("libc.so.6").unlink({db!r}.encode())
    """,
    "another process's open files": """
        import os
        for fd in os.listdir(f"/proc/{{os.getppid()}}/fd"):
            pass
    """,
}


@pytest.mark.parametrize("attack", DB_ATTACKS)
def test_the_history_survives_every_attack_byte_for_byte(grade_source, attack):
    store = Store(paths.db_path())
    store.start_attempt("attention", "0" * 16, 1.0)
    store.close()
    db = paths.db_path()
    before = db.read_bytes()
    verdict = grade_source("attention", textwrap.dedent(DB_ATTACKS[attack].format(db=str(db))) + SOLUTION)
    assert verdict.status == "forbidden", describe(verdict)
    assert db.read_bytes() == before


def test_the_worker_environment_names_no_state_folder(grade_source):
    verdict = grade_source("attention", SOLUTION + """
import os
assert not [k for k in os.environ if k.startswith("DRILL_")], sorted(os.environ)
""")
    assert verdict.ok, describe(verdict)


# -- the verdict is about the bytes that were graded -----------------------------------

def test_the_verdict_and_its_hash_are_about_the_bytes_read(tmp_path, warm_worker):
    path = tmp_path / "attention.py"
    buggy = SOLUTION.replace("/ math.sqrt(q.shape[-1])", "") + f"""
open({str(path)!r}, "w").write({SOLUTION!r})   # the file turns correct while it is graded
"""
    path.write_text(buggy)
    catalog = Catalog()
    verdict = grade(catalog.spec("attention"), path, catalog, worker=warm_worker)
    assert not verdict.ok
    assert verdict.code_hash == hashlib.sha256(buggy.encode()).hexdigest()[:16]
    assert path.read_text() == SOLUTION


# -- sources decode as Python decodes them ---------------------------------------------

def _grade_bytes(worker: WorkerProcess, tmp_path: Path, data: bytes):
    path = tmp_path / "attention.py"
    path.write_bytes(data)
    catalog = Catalog()
    return grade(catalog.spec("attention"), path, catalog, worker=worker)


def test_a_utf8_bom_is_accepted(warm_worker, tmp_path):
    verdict = _grade_bytes(warm_worker, tmp_path, b"\xef\xbb\xbf" + SOLUTION.encode())
    assert verdict.ok, describe(verdict)


def test_a_coding_cookie_is_honoured(warm_worker, tmp_path):
    source = "# -*- coding: latin-1 -*-\n" + SOLUTION + "NOTE = 'café'\n"
    verdict = _grade_bytes(warm_worker, tmp_path, source.encode("latin-1"))
    assert verdict.ok, describe(verdict)


def test_invalid_utf8_without_a_cookie_is_refused_with_pythons_message(warm_worker, tmp_path):
    verdict = _grade_bytes(warm_worker, tmp_path, SOLUTION.encode() + b"NOTE = '\xff'\n")
    assert verdict.status == "syntax_error"
    assert "utf-8" in verdict.message and "0xff" in verdict.message


# -- the cold path -----------------------------------------------------------------------

@linux_only
def test_a_cold_grade_leaves_no_server_behind(tmp_path):
    record = tmp_path / "pids"
    path = tmp_path / "attention.py"
    path.write_text(SOLUTION + f"""
import os
with open({str(record)!r}, "w") as f:
    f.write(f"{{os.getpid()}} {{os.getppid()}}")
""")
    catalog = Catalog()
    verdict = grade(catalog.spec("attention"), path, catalog)
    assert verdict.ok, describe(verdict)
    child, server = _pids(record)
    assert _gone(child) and _gone(server)


def test_a_server_that_dies_is_restarted_on_the_next_grade(tmp_path):
    path = tmp_path / "attention.py"
    path.write_text(SOLUTION)
    catalog = Catalog()
    with WorkerProcess() as worker:
        assert grade(catalog.spec("attention"), path, catalog, worker=worker).ok
        worker.proc.send_signal(signal.SIGKILL)
        worker.proc.wait()
        assert grade(catalog.spec("attention"), path, catalog, worker=worker).ok
