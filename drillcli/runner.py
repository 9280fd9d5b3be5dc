"""Grade a file as a problem: check it statically, run it in a child of a grading server
under limits, and compare what came back. The parent never imports torch or the user's code,
and the expected outputs never leave it.
"""

from __future__ import annotations

import ast
import json
import signal
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from drillcli.catalog import Catalog
from drillcli.fixtures import save_cases
from drillcli.forbid import scan
from drillcli.spec import Spec
from drillcli.verdict import CaseResult, Verdict
from drillcli.worker_process import WorkerError, WorkerProcess, scratch

OUTPUT_SHOWN = 4000       # characters of the user's printed output shown in a verdict


@dataclass
class WorkerRun:
    events: list[dict[str, Any]]
    out_dir: Path
    returncode: int | None
    killed: bool          # killed at the deadline
    output: str


def decode_source(data: bytes) -> str:
    """The text Python would read from these bytes: BOM and coding cookie honoured."""
    import io
    import tokenize

    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    return data.decode(encoding, errors="replace").removeprefix("\ufeff")


def _static_verdict(spec: Spec, data: bytes, path: Path) -> Verdict | None:
    """A verdict without running anything: syntax error (as Python reports it, invalid
    UTF-8 included) or forbidden API."""
    try:
        tree = ast.parse(data, filename=str(path))
    except SyntaxError as exc:
        caret = " " * max((exc.offset or 1) - 1, 0) + "^"
        detail = f"{path}, line {exc.lineno}\n    {(exc.text or '').rstrip()}\n    {caret}\nSyntaxError: {exc.msg}"
        return Verdict(spec.id, "syntax_error", message=f"line {exc.lineno}: {exc.msg}", detail=detail)
    except ValueError as exc:   # null bytes
        return Verdict(spec.id, "syntax_error", message=f"cannot be read as Python source: {exc}")
    source = decode_source(data)
    violations = scan(tree, source, spec.forbid)
    if violations:
        return Verdict(spec.id, "forbidden", message=violations[0].message().splitlines()[0],
                       detail="\n".join(v.message() for v in violations))
    return None


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


def protected_folders(catalog: Catalog, spec: Spec) -> list[str]:
    """What the submission may not touch: the answers (the built-in ones, every pack's and
    those beside the problem graded) and drill's state folder."""
    from drillcli.paths import data_dir

    own = [spec.source_root / "solutions", spec.source_root / "graders" / "fixtures"]
    return list(dict.fromkeys([*map(str, [*catalog.protected_folders(), *own]), str(data_dir())]))


def run_worker(spec: Spec, source: bytes, home: Path, cases: list[Any], tmp: Path, worker: WorkerProcess,
               catalog: Catalog) -> WorkerRun:
    """Run the grade in a child of `worker` on a copy of `source`; collect its events."""
    user_file = tmp / "submission.py"
    user_file.write_bytes(source)
    protected = protected_folders(catalog, spec)
    if any(home == Path(p) or Path(p) in home.parents for p in protected):
        home = tmp   # a reference graded by `drill check`: its folder stays out of sys.path
    save_cases(tmp / "inputs.npz", spec.id, [replace(c, outputs={}, out_types={}, near={}) for c in cases], compress=False)
    request = {
        "module": spec.module_name, "package": spec.package, "source_root": str(spec.source_root),
        "entry": spec.entry, "kind": spec.kind, "user_file": str(user_file),
        "user_home": str(home), "inputs": str(tmp / "inputs.npz"), "out_dir": str(tmp),
        "forbid": list(spec.forbid), "protected": protected,
        "time_limit_s": spec.time_limit_s, "memory_limit_mb": spec.memory_limit_mb,
    }
    try:
        reply = worker.run(request)
    except WorkerError as exc:
        reply = {"returncode": None, "killed": False, "error": str(exc)}
    output = (tmp / "output.txt").read_bytes()[:OUTPUT_SHOWN].decode("utf-8", "replace") \
        if (tmp / "output.txt").exists() else reply.get("error", "")
    return WorkerRun(_read_events(tmp), tmp, reply["returncode"], reply["killed"], output)


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
    return getattr(spec.module("graders"), "check", None)


def load_near_misses(spec: Spec) -> dict[str, tuple[str, Any]]:
    """The grader's NEAR_MISSES: variant name -> (message, implementation)."""
    return getattr(spec.module("graders"), "NEAR_MISSES", {})


def _crash_message(run: WorkerRun, limit_s: float) -> tuple[str, str]:
    if run.killed:
        return "timeout", f"still running after the {limit_s:g} s limit; the process was killed"
    if run.returncode is None:
        return "crash", run.output or "the grading process stopped"
    code = run.returncode
    if code < 0:
        sig = signal.Signals(-code).name
        if sig == "SIGXCPU":
            return "timeout", "used more CPU time than the limit allows; the process was stopped"
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
                      detail=event.get("traceback", ""), seconds=event.get("seconds"), note=case.note)


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

    from drillcli.compare import compare_case, near_miss

    verdict = Verdict(spec.id, "failed", output=run.output)
    by_case: dict[int, dict[str, Any]] = {}
    started: set[int] = set()
    returned: dict[int, dict[str, Any]] = {}   # case index -> the user's outputs
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
            returned[i] = got
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
    if verdict.status == "failed":
        verdict.near_miss = near_miss(spec, cases, verdict.cases, returned, load_near_misses(spec))
    return verdict


def stored_cases(fixture: Path) -> list[Any]:
    """The fixture's cases, read once per process while the file is unchanged (a warm
    session grades the same problem again and again; decompressing costs ~30 ms)."""
    stat = fixture.stat()
    return _load_cases(fixture, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8)
def _load_cases(fixture: Path, mtime_ns: int, size: int) -> list[Any]:
    """Read-only arrays: a grade that tried to change a shared case would raise, not leak."""
    import numpy as np

    from drillcli.fixtures import load_cases

    cases = load_cases(fixture)
    for case in cases:
        arrays = [*case.inputs.values(), *case.outputs.values(),
                  *(a for outputs in case.near.values() for a in outputs.values())]
        for array in arrays:
            if isinstance(array, np.ndarray):
                array.flags.writeable = False
    return cases


def grade(spec: Spec, user_file: Path, catalog: Catalog | None = None,
          worker: WorkerProcess | None = None) -> Verdict:
    """Grade `user_file` as problem `spec`: its bytes are read once, and the verdict and
    its code hash are about exactly those bytes. `worker` is a warm grading process; by
    default one is started for this grade alone (its torch import overlaps the loading here)."""
    from drillcli.workspace import hash_bytes

    catalog = catalog or Catalog()
    source = user_file.read_bytes()
    verdict = _static_verdict(spec, source, user_file)
    if verdict is None:
        own = worker is None
        worker = worker or WorkerProcess()
        worker.start()
        try:
            with scratch("grade") as tmp:
                cases = stored_cases(catalog.fixture_path(spec))
                run = run_worker(spec, source, user_file.resolve().parent, cases, tmp, worker, catalog)
                verdict = assemble(spec, cases, run, load_check(spec))
        finally:
            if own:
                worker.close()
    verdict.code_hash = hash_bytes(source)
    return verdict
