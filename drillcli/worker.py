"""One grade in the child that `drillcli.server` forks: the only code that runs the user's.

It applies the limits, reads the case inputs (never the expected outputs: those stay in
the parent), installs the guards and the audit hook, imports the user's file and runs
every case, writing one JSON line per event to OUT/log.jsonl and each case's outputs to
OUT/case_<i>.npz as it goes, so whatever finished survives a kill. It never decides
pass or fail: the parent compares.
"""

from __future__ import annotations

import importlib.util
import json
import os
import resource
import signal
import sys
import time
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

from drillcli.sources import import_from

OUTPUT_LIMIT = 64 * 1024          # bytes of the user's printed output that are kept
FILE_LIMIT = 256 * 1024 * 1024    # no file the worker writes may grow past this
MEMORY_MARKERS = ("can't allocate memory", "DefaultCPUAllocator", "out of memory")
CPU_SLACK_S = 60                  # CPU seconds beyond the time limit before RLIMIT_CPU stops the child


class Deadline(BaseException):
    """Raised by the alarm when time is up (BaseException: user code can't swallow it)."""


class BoundedWriter:
    """Stands in for sys.stdout/stderr: passes the first OUTPUT_LIMIT bytes through, counts the rest."""

    def __init__(self, fd: int):
        self.fd, self.written, self.total = fd, 0, 0

    def write(self, text: str) -> int:
        data = str(text).encode("utf-8", "replace")
        self.total += len(data)
        room = OUTPUT_LIMIT - self.written
        if room > 0:
            os.write(self.fd, data[:room])
            self.written += min(room, len(data))
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


class Log:
    def __init__(self, out_dir: Path):
        self.out_dir = out_dir
        self.fd = os.open(out_dir / "log.jsonl", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    def event(self, **fields: Any) -> None:
        os.write(self.fd, (json.dumps(fields) + "\n").encode())


def apply_limits(memory_mb: int, time_limit_s: float) -> None:
    """Memory, file size, no core dumps, and a CPU-time backstop in case the server that
    enforces the wall-clock deadline is gone (all cores busy for the whole limit, plus slack)."""
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_LIMIT, FILE_LIMIT))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    cpu = int(time_limit_s * (os.cpu_count() or 1) + CPU_SLACK_S)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))


def user_traceback(exc: BaseException, user_file: str) -> str:
    """The traceback trimmed to the user's own frames, then the exception line."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == user_file]
    lines = [f"  line {f.lineno}, in {f.name}\n    {(f.line or '').strip()}" for f in frames]
    lines.append(f"{type(exc).__name__}: {exc}".rstrip(": "))
    return "\n".join(lines)


def classify(exc: BaseException) -> str:
    """Error kind the parent turns into a verdict."""
    from drillcli.guard import ForbiddenCall
    from drillcli.harness import ModifiedInput, WrongReturn

    if isinstance(exc, Deadline):
        return "timeout"
    if isinstance(exc, ForbiddenCall):
        return "forbidden"
    if isinstance(exc, NotImplementedError):
        return "not_implemented"
    if isinstance(exc, SystemExit):
        return "exit"
    if isinstance(exc, WrongReturn):
        return "wrong_return"
    if isinstance(exc, ModifiedInput):
        return "modified_input"
    if isinstance(exc, MemoryError) or any(m in str(exc) for m in MEMORY_MARKERS):
        return "memory"
    if isinstance(exc, SyntaxError):
        return "syntax"
    return "exception"


def error_fields(exc: BaseException, user_file: str) -> dict[str, Any]:
    kind = classify(exc)
    message = f"sys.exit({exc.code!r})" if isinstance(exc, SystemExit) else f"{type(exc).__name__}: {exc}"
    if kind == "exception" and not any(f.filename == user_file for f in traceback.extract_tb(exc.__traceback__)):
        # raised by drill's code (or torch called from it) on what the user's code returned
        return {"kind": "wrong_return", "message": f"your code returned values drill could not use: {message}",
                "traceback": ""}
    return {"kind": kind, "message": message, "traceback": user_traceback(exc, user_file)}


def import_user(path: str, home: str) -> ModuleType:
    """Import the copy of the user's file at `path`; `home` (the folder of the original)
    goes on sys.path so that a helper module beside it still imports."""
    sys.path.insert(0, home)
    spec = importlib.util.spec_from_file_location("submission", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["submission"] = module
    spec.loader.exec_module(module)
    return module


class Clock:
    """One wall-clock deadline for the whole run, enforced with SIGALRM."""

    def __init__(self, seconds: float):
        self.deadline = time.monotonic() + seconds
        signal.signal(signal.SIGALRM, self._ring)

    def _ring(self, signum: int, frame: Any) -> None:
        raise Deadline()

    def arm(self, budget: float | None = None) -> None:
        remaining = self.deadline - time.monotonic()
        seconds = remaining if budget is None else min(budget, remaining)
        signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.001))

    def disarm(self) -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)

    def expired(self) -> bool:
        return time.monotonic() >= self.deadline


def best_time(fn: Callable[[], Any], repeats: int = 2) -> float:
    """Best of `repeats` runs; a run of over half a second is measured once (noise is
    small next to it, and the user waits for every repeat)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
        if best > 0.5:
            break
    return best


def run_timed(call: Callable[[Callable], Any], reference: Callable, entry: Callable, ratio: float,
              clock: Clock, record: dict[str, Any]) -> Any:
    """Run the user's entry with a budget of `ratio` times the reference's time on the
    same input. If the budget runs out while the machine got busier (the reference,
    timed again, is 1.5x slower than before), the user gets one more try."""
    ref_s, retried = best_time(lambda: call(reference)), False
    while True:
        budget = ref_s * ratio + 0.25
        record["timing"] = {"ref_s": ref_s, "ratio_limit": ratio, "limit_s": budget}
        clock.arm(budget)
        try:
            return call(entry)
        except Deadline:
            clock.disarm()
            if retried or clock.expired():
                raise
            again = best_time(lambda: call(reference))
            if again < 1.5 * ref_s:
                raise
            ref_s, retried = again, True


def save_outputs(out_dir: Path, index: int, outputs: dict[str, Any]) -> dict[str, Any]:
    import numpy as np

    from drillcli.harness import describe

    arrays, types = {}, {}
    for name, value in outputs.items():
        arr, types[name] = describe(value)
        if arr is not None:
            arrays[name] = arr
    np.savez(out_dir / f"case_{index}.npz", **arrays)
    return types


def timed_reference(request: dict[str, Any], cases: list[Any]) -> Callable | None:
    """The reference entry, for problems with scaling cases (timed against it). Imported
    before the audit hook, then dropped from sys.modules: the user's code cannot import it."""
    if not any(c.timed for c in cases):
        return None
    solutions = f"{request['package']}.solutions"
    reference = getattr(import_from(request["package"], request["source_root"], "solutions", request["module"]),
                        request["entry"])
    for loaded in [m for m in sys.modules if m == solutions or m.startswith(solutions + ".")]:
        del sys.modules[loaded]
    return reference


def run(request: dict[str, Any], status_fd: int) -> None:
    """Grade in this process (the forked child, cwd = the grade's folder); `status_fd` gets
    one byte when the setup is done and the user's time starts."""
    out_dir, user_file = Path(request["out_dir"]), request["user_file"]
    log = Log(out_dir)
    apply_limits(request["memory_limit_mb"], request["time_limit_s"])

    import torch

    from drillcli import containment, guard, harness
    from drillcli.fixtures import load_cases

    # One thread: the cases are small, and a second thread that waits for a busy core (a
    # parallel test run, `drill check` on every core) costs a scheduler tick per operation.
    torch.set_num_threads(1)
    grader = import_from(request["package"], request["source_root"], "graders", request["module"])
    cases = load_cases(Path(request["inputs"]), with_outputs=False)
    reference = timed_reference(request, cases)
    run_one = getattr(grader, "run", harness.run_case)
    names = list(grader.RETURNS)

    sys.stdout = sys.stderr = BoundedWriter(1)
    guard.install_import_guard(tuple(request["forbid"]))
    guard.install_api_guard(tuple(request["forbid"]), user_file)
    containment.install(request["protected"], user_file)
    os.write(status_fd, b"R")
    os.close(status_fd)
    clock = Clock(request["time_limit_s"])

    try:
        clock.arm()
        module = import_user(user_file, request["user_home"])
        clock.disarm()
    except BaseException as exc:  # noqa: BLE001 - anything the import does is the user's
        clock.disarm()
        log.event(event="module_error", **error_fields(exc, user_file))
        return
    entry = getattr(module, request["entry"], None)
    if entry is None:
        log.event(event="module_error", kind="missing_entry",
                  message=f"your file does not define {request['entry']}", traceback="")
        return

    for i, case in enumerate(cases):
        if clock.expired():
            break
        log.event(event="start", case=i)
        record: dict[str, Any] = {"event": "done", "case": i}
        try:
            call = lambda fn: run_one(fn, request["kind"], case, names)  # noqa: E731
            start = time.perf_counter()
            if case.timed:
                outputs = run_timed(call, reference, entry, getattr(grader, "MAX_TIME_RATIO", 10.0), clock, record)
            else:
                clock.arm()
                outputs = call(entry)
            record["seconds"] = time.perf_counter() - start
            clock.disarm()
            record["types"] = save_outputs(out_dir, i, outputs)
            record["status"] = "ok"
        except BaseException as exc:  # noqa: BLE001
            clock.disarm()
            record.update(status="error", **error_fields(exc, user_file))
            if case.timed and isinstance(exc, Deadline) and not clock.expired():
                record["kind"] = "too_slow"
        if guard.VIOLATIONS:
            record.update(status="error", kind="forbidden", message=guard.VIOLATIONS[0], traceback="")
        log.event(**record)
    log.event(event="finished", printed=getattr(sys.stdout, "total", 0))
    sys.stdout.flush()


def build(request: dict[str, Any], status_fd: int) -> None:
    """Build a problem's cases from its reference into OUT/fresh.npz (`drill check`). Drill's
    own code only: no user code runs in this child."""
    os.write(status_fd, b"R")
    os.close(status_fd)
    import torch

    from drillcli.build import build_cases

    torch.set_num_threads(1)   # as in a grade: `drill check` keeps every core busy
    from drillcli.fixtures import save_cases
    from drillcli.spec import load_spec

    spec = load_spec(Path(request["spec_folder"]) / "spec.yaml", request["pack"])
    save_cases(Path(request["out_dir"]) / "fresh.npz", spec.id, build_cases(spec), compress=False)
