"""Grade a file as a problem: check it statically, run it in a worker process under
limits, and compare what came back. The parent never imports torch or the user's code.
"""

from __future__ import annotations

import ast
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drillcli.catalog import PACKAGE_DIR, Catalog
from drillcli.forbid import scan
from drillcli.spec import Spec
from drillcli.verdict import CaseResult, Verdict

IMPORT_TIMEOUT_S = 60.0   # time allowed for the worker to import torch before user code runs
KILL_GRACE_S = 2.0        # the worker enforces its own deadline; the parent kills after this grace
OUTPUT_SHOWN = 4000       # characters of the user's printed output shown in a verdict


@dataclass
class WorkerRun:
    events: list[dict[str, Any]]
    out_dir: Path
    returncode: int | None
    killed: bool          # the parent killed it at the deadline
    output: str


def _static_verdict(spec: Spec, source: str, path: Path) -> Verdict | None:
    """A verdict without running anything: syntax error or forbidden API."""
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as exc:
        caret = " " * max((exc.offset or 1) - 1, 0) + "^"
        detail = f"{path}, line {exc.lineno}\n    {(exc.text or '').rstrip()}\n    {caret}\nSyntaxError: {exc.msg}"
        return Verdict(spec.id, "syntax_error", message=f"line {exc.lineno}: {exc.msg}", detail=detail)
    violations = scan(tree, source, spec.forbid)
    if violations:
        return Verdict(spec.id, "forbidden", message=violations[0].message().splitlines()[0],
                       detail="\n".join(v.message() for v in violations))
    return None


def _worker_env() -> dict[str, str]:
    env = dict(os.environ)
    root = str(PACKAGE_DIR.parent)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _read_events(out_dir: Path) -> list[dict[str, Any]]:
    log = out_dir / "log.jsonl"
    events = []
    if log.exists():
        for line in log.read_text(errors="replace").splitlines():
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                break  # a line cut short by a kill
    return events


def run_worker(spec: Spec, user_file: Path, fixture: Path, tmp: Path, on_started: Any = None) -> WorkerRun:
    """Spawn the worker, wait within the limits, and collect its events."""
    request = {
        "module": spec.module_name, "entry": spec.entry, "kind": spec.kind, "user_file": str(user_file),
        "fixture": str(fixture), "out_dir": str(tmp), "forbid": list(spec.forbid),
        "time_limit_s": spec.time_limit_s, "memory_limit_mb": spec.memory_limit_mb,
    }
    (tmp / "request.json").write_text(json.dumps(request))
    read_fd, write_fd = os.pipe()
    with open(tmp / "output.txt", "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "drillcli.worker", str(tmp / "request.json"), str(write_fd)],
            pass_fds=(write_fd,), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            cwd=tmp, env=_worker_env(), start_new_session=True,
        )
    os.close(write_fd)
    if on_started is not None:
        on_started()  # the parent's own work (loading fixtures) overlaps the worker's torch import
    killed = False
    try:
        ready, _, _ = select.select([read_fd], [], [], IMPORT_TIMEOUT_S)
        if ready:
            os.read(read_fd, 1)
        proc.wait(timeout=spec.time_limit_s + KILL_GRACE_S)
    except subprocess.TimeoutExpired:
        killed = True
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except BaseException:  # Ctrl-C: the worker has its own process group, stop it too
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise
    finally:
        os.close(read_fd)
    output = (tmp / "output.txt").read_bytes()[:OUTPUT_SHOWN].decode("utf-8", "replace")
    return WorkerRun(_read_events(tmp), tmp, proc.returncode, killed, output)


MODULE_ERROR_STATUS = {
    "syntax": "syntax_error", "exception": "import_error", "not_implemented": "not_implemented",
    "exit": "exit", "timeout": "timeout", "memory": "memory", "forbidden": "forbidden",
    "missing_entry": "missing_entry", "wrong_return": "import_error",
}
# When cases fail in different ways, the overall status names the most telling one.
CASE_STATUS_PRIORITY = ("forbidden", "memory", "timeout", "exit", "too_slow", "wrong_return", "modified_input",
                        "exception")


def load_check(spec: Spec) -> Any:
    """The problem's own comparison, if its grader defines one (graders import no torch at module level)."""
    import importlib

    grader = importlib.import_module(f"drillcli.graders.{spec.module_name}")
    return getattr(grader, "check", None)


def _crash_message(run: WorkerRun, limit_s: float) -> tuple[str, str]:
    if run.killed:
        return "timeout", f"still running after the {limit_s:g} s limit; the process was killed"
    code = run.returncode or 0
    if code < 0:
        sig = signal.Signals(-code).name
        if sig == "SIGKILL":
            return "memory", "the process was killed (SIGKILL), most likely for running out of memory"
        return "crash", f"the process died from signal {sig}"
    return "exit", f"the process ended with exit code {code} before returning results (os._exit or a crash)"


def _case_from_event(case: Any, event: dict[str, Any]) -> CaseResult:
    kind = event.get("kind", "exception")
    message = event.get("message", "")
    if kind == "not_implemented":
        message = "not implemented yet (NotImplementedError)"
    elif kind == "too_slow":
        t = event.get("timing", {})
        message = (f"too slow: stopped after {t.get('limit_s', 0):.2f} s, {t.get('ratio_limit', 0):g}x the reference's "
                   f"{t.get('ref_s', 0):.3f} s on the same input. Your algorithm is likely of a higher complexity "
                   f"than the problem asks for.")
    elif kind == "timeout":
        message = "time limit reached during this case"
    return CaseResult(case.name, case.shapes(), "error", kind=kind, message=message,
                      detail=event.get("traceback", ""), seconds=event.get("seconds"))


def _overall(cases: list[CaseResult]) -> str:
    if all(c.passed for c in cases):
        return "passed"
    errors = [c for c in cases if c.status == "error"]
    if errors and all(c.kind == "not_implemented" for c in errors) and not any(c.passed for c in cases):
        return "not_implemented"
    kinds = {c.kind for c in errors}
    for kind in CASE_STATUS_PRIORITY:
        if kind in kinds:
            return "error" if kind == "exception" else kind
    return "failed"


def assemble(spec: Spec, cases: list[Any], run: WorkerRun, check: Any) -> Verdict:
    """Turn the worker's events and outputs into a verdict; comparison happens here."""
    import numpy as np

    from drillcli.compare import compare_case

    verdict = Verdict(spec.id, "failed", output=run.output)
    by_case: dict[int, dict[str, Any]] = {}
    started: set[int] = set()
    for event in run.events:
        if event.get("event") == "module_error":
            verdict.status = MODULE_ERROR_STATUS.get(event.get("kind"), "import_error")
            verdict.message, verdict.detail = event.get("message", ""), event.get("traceback", "")
        elif event.get("event") == "start":
            started.add(event["case"])
        elif event.get("event") == "done":
            by_case[event["case"]] = event
        elif event.get("event") == "finished":
            verdict.printed_bytes = event.get("printed", 0)
    finished = any(e.get("event") in ("finished", "module_error") for e in run.events)
    crash_kind, crash_message = ("", "") if finished else _crash_message(run, spec.time_limit_s)

    for i, case in enumerate(cases):
        event = by_case.get(i)
        if event is None:
            if i in started and crash_kind:
                verdict.cases.append(CaseResult(case.name, case.shapes(), "error", kind=crash_kind, message=crash_message))
            else:
                verdict.cases.append(CaseResult(case.name, case.shapes(), "not_run", message="not run"))
        elif event.get("status") != "ok":
            verdict.cases.append(_case_from_event(case, event))
        else:
            try:
                with np.load(run.out_dir / f"case_{i}.npz", allow_pickle=False) as data:
                    got = {k: data[k] for k in data.files}
            except Exception as exc:  # noqa: BLE001 - the file came from a process running user code
                verdict.cases.append(CaseResult(case.name, case.shapes(), "error", kind="crash",
                                                message=f"could not read the outputs: {exc}"))
                continue
            result = compare_case(spec, case, got, event.get("types", {}), check)
            result.seconds = event.get("seconds")
            verdict.cases.append(result)

    if any(e.get("event") == "module_error" for e in run.events):
        return verdict
    if crash_kind and not verdict.message:
        verdict.message = crash_message
    verdict.status = _overall(verdict.cases) if finished or verdict.cases else crash_kind
    if not finished and verdict.status in ("failed", "error", "passed"):
        verdict.status = crash_kind
    return verdict


def grade(spec: Spec, user_file: Path, catalog: Catalog | None = None) -> Verdict:
    """Grade `user_file` as problem `spec`."""
    from drillcli.fixtures import load_cases

    catalog = catalog or Catalog()
    user_file = user_file.resolve()
    source = user_file.read_text(encoding="utf-8", errors="replace")
    static = _static_verdict(spec, source, user_file)
    if static is not None:
        return static
    fixture = catalog.fixture_path(spec)
    loaded: dict[str, Any] = {}

    def load() -> None:
        loaded["cases"] = load_cases(fixture)
        loaded["check"] = load_check(spec)

    with tempfile.TemporaryDirectory(prefix="drill-") as tmp:
        run = run_worker(spec, user_file, fixture, Path(tmp), on_started=load)
        return assemble(spec, loaded["cases"], run, loaded["check"])
