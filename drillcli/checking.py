"""`drill check`: prove the catalog consistent, problem by problem, fanned out over the cores.

For each problem, in the order an author fixes them: the spec's fields are filled in, the
stub defines the entry with the reference's signature, the reference runs on every case,
the fixtures are built and reproducible, the reference passes, the stub fails as not
implemented, and there are enough cases. Grades go to warm grading servers, one per job,
so the catalog costs one torch import per job.
"""

from __future__ import annotations

import ast
import os
import queue
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from drillcli.catalog import Catalog
from drillcli.fixtures import Case, load_cases
from drillcli.spec import Spec
from drillcli.worker_process import WorkerProcess


@dataclass
class Checked:
    spec: Spec
    issues: list[str]
    cases: int


BUILD_LIMIT_S = 600.0   # a fresh build of one problem's fixtures in a grading child
MIN_CASES = 20
TODO = "TODO"


def _parameters(path, entry: str, kind: str) -> list[str] | str:
    """The entry's parameter names in a Python file (a class's __init__'s), or why not."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except OSError:
        return f"{path.name} is missing"
    except SyntaxError as exc:
        return f"{path.name} has a syntax error on line {exc.lineno}"
    wanted = ast.ClassDef if kind == "class" else (ast.FunctionDef, ast.AsyncFunctionDef)
    node = next((n for n in tree.body if isinstance(n, wanted) and n.name == entry), None)
    if node is None:
        return f"{path.name} defines no {kind} {entry}"
    if kind == "class":
        node = next((n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
        if node is None:
            return []
    args = node.args
    return [a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs] if a.arg != "self"]


def static_issues(spec: Spec, catalog: Catalog) -> tuple[list[str], bool]:
    """What reading the files shows: fields left as TODO, a missing file, a stub whose entry
    differs from the reference's; and whether the files are there to run at all."""
    issues = [f"{spec.id}: spec.yaml: {name} still has a {TODO}" for name, text in (
        ("title", spec.title), ("prompt", spec.prompt), ("hints", " ".join(spec.hints)),
        ("followups", " ".join(f.q + f.a + " ".join(f.points) for f in spec.followups))) if TODO in text]
    if len(spec.followups) < 2:
        issues.append(f"{spec.id}: spec.yaml: followups has {len(spec.followups)}; write 2-4 concept questions")
    grader = spec.source_root / "graders" / f"{spec.module_name}.py"
    if not grader.is_file():
        issues.append(f"{spec.id}: no grader at {grader} (`drill new` writes one)")
    stub = _parameters(spec.folder / "stub.py", spec.entry, spec.kind)
    reference = _parameters(catalog.solution_path(spec), spec.entry, spec.kind)
    for where, found in (("stub", stub), ("reference", reference)):
        if isinstance(found, str):
            issues.append(f"{spec.id}: {where}: {found}")
    runnable = grader.is_file() and isinstance(stub, list) and isinstance(reference, list)
    if runnable and stub != reference:
        issues.append(f"{spec.id}: the stub's {spec.entry}({', '.join(stub)}) differs from the reference's "
                      f"{spec.entry}({', '.join(reference)})")
    return issues, runnable


def fresh_build(spec: Spec, catalog: Catalog, worker: WorkerProcess) -> list[Case] | str:
    """The problem's cases built anew from the reference in a child of `worker` (torch's global
    random state is per process, so builds cannot share one); a message if the build failed."""
    from drillcli.worker_process import WorkerError, scratch

    with scratch("build") as tmp:
        request = {"job": "build", "problem": spec.id, "spec_folder": str(spec.folder), "pack": spec.pack, "out_dir": str(tmp),
                   "time_limit_s": BUILD_LIMIT_S}
        try:
            reply = worker.run(request)
        except WorkerError as exc:
            return f"{spec.id}: building the fixtures failed: {exc}"
        if reply["returncode"] != 0:
            output = (tmp / "output.txt").read_text(errors="replace") if (tmp / "output.txt").exists() else ""
            return f"{spec.id}: building the fixtures failed:\n{output[-2000:]}"
        return load_cases(tmp / "fresh.npz")


def check_problem(spec: Spec, catalog: Catalog, worker: WorkerProcess) -> Checked:
    """Every issue, in the order to fix them; a step that cannot run yet stops the list."""
    from drillcli.runner import grade

    issues, runnable = static_issues(spec, catalog)
    if not runnable:
        return Checked(spec, issues, 0)
    fresh = fresh_build(spec, catalog, worker)
    if isinstance(fresh, str):
        return Checked(spec, [*issues, fresh], 0)
    if not catalog.fixture_path(spec).is_file():
        issues.append(f"{spec.id}: no fixtures yet: run `drill build-fixtures {spec.id}`")
        return Checked(spec, issues, len(fresh))
    issues += differences(spec, load_cases(catalog.fixture_path(spec)), fresh)
    reference = grade(spec, catalog.solution_path(spec), catalog, worker=worker)
    if not reference.ok:
        first = reference.first_failure()
        why = f": {first.name}: {first.message}" if first else f": {reference.message}" if reference.message else ""
        issues.append(f"{spec.id}: the reference solution does not pass ({reference.status}){why}")
    stub = grade(spec, spec.folder / "stub.py", catalog, worker=worker)
    if stub.status != "not_implemented":
        issues.append(f"{spec.id}: the stub grades as {stub.status}, not as not implemented")
    if len(fresh) < MIN_CASES:
        issues.append(f"{spec.id}: {len(fresh)} cases; write at least {MIN_CASES} (readable ones first)")
    return Checked(spec, issues, len(fresh))


def check_all(specs: list[Spec], catalog: Catalog, jobs: int | None = None) -> Iterator[Checked]:
    """Results in the order of `specs`, computed `jobs` at a time (default: one per core)."""
    if not specs:
        return
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(specs)))
    workers: queue.Queue[WorkerProcess] = queue.Queue()
    for _ in range(jobs):
        worker = WorkerProcess()
        worker.start()   # the servers import torch side by side
        workers.put(worker)

    def run(spec: Spec) -> Checked:
        worker = workers.get()
        try:
            return check_problem(spec, catalog, worker)
        finally:
            workers.put(worker)

    # the largest fixtures (the costliest builds) start first, so that no job is left alone at the end
    first = sorted(specs, key=lambda s: -_size(catalog.fixture_path(s)))
    try:
        with ThreadPoolExecutor(jobs) as pool:
            futures = {spec.id: pool.submit(run, spec) for spec in first}
            for spec in specs:
                yield futures[spec.id].result()
    finally:
        while not workers.empty():
            workers.get().close()


def _size(path) -> int:
    return path.stat().st_size if path.is_file() else 0


def differences(spec: Spec, stored: list[Case], fresh: list[Case]) -> list[str]:
    """What a fresh build changed in the stored cases (expected outputs and near misses'
    outputs included); empty when in sync."""
    problems = []
    if [c.name for c in stored] != [c.name for c in fresh]:
        return [f"{spec.id}: case list changed; rebuild with `drill build-fixtures {spec.id}`"]
    for old, new in zip(stored, fresh):
        for key in set(old.inputs) | set(new.inputs):
            a, b = old.inputs.get(key), new.inputs.get(key)
            if not np.array_equal(np.asarray(a), np.asarray(b)):
                problems.append(f"{spec.id}/{old.name}: input {key} differs")
        problems += [f"{spec.id}/{old.name}: expected output {key} differs" for key in _changed(old.outputs, new.outputs)]
        for variant in sorted(set(old.near) | set(new.near)):
            changed = _changed(old.near.get(variant, {}), new.near.get(variant, {}))
            problems += [f"{spec.id}/{old.name}: near miss {variant}: output {key} differs" for key in changed]
    return problems


def _changed(old: dict[str, np.ndarray], new: dict[str, np.ndarray]) -> list[str]:
    """Names of the outputs that are not in both or differ beyond rounding."""
    changed = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a is None or b is None or a.shape != b.shape or a.dtype != b.dtype or not np.allclose(
                a, b, rtol=1e-6, atol=1e-9, equal_nan=True):
            changed.append(key)
    return changed
