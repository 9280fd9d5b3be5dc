"""`drill check`: prove the catalog consistent, problem by problem, fanned out over the cores.

For each problem: the stored fixtures match a fresh build from the reference, the
reference solution passes, and the stub fails as not implemented. Grades go to warm
grading servers, one per job, so the catalog costs one torch import per job.
"""

from __future__ import annotations

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


def fresh_build(spec: Spec, catalog: Catalog, worker: WorkerProcess) -> list[Case] | str:
    """The problem's cases built anew from the reference in a child of `worker` (torch's global
    random state is per process, so builds cannot share one); a message if the build failed."""
    from drillcli.worker_process import WorkerError, scratch

    with scratch("build") as tmp:
        request = {"job": "build", "problem": spec.id, "catalog": str(catalog.root), "out_dir": str(tmp),
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
    from drillcli.runner import grade

    fresh = fresh_build(spec, catalog, worker)
    issues = [fresh] if isinstance(fresh, str) else differences(spec, load_cases(catalog.fixture_path(spec)), fresh)
    reference = grade(spec, catalog.solution_path(spec), catalog, worker=worker)
    if not reference.ok:
        first = reference.first_failure()
        why = f": {first.name}: {first.message}" if first else f": {reference.message}" if reference.message else ""
        issues.append(f"{spec.id}: the reference solution does not pass ({reference.status}){why}")
    stub = grade(spec, spec.folder / "stub.py", catalog, worker=worker)
    if stub.status != "not_implemented":
        issues.append(f"{spec.id}: the stub grades as {stub.status}, not as not implemented")
    return Checked(spec, issues, reference.total)


def check_all(specs: list[Spec], catalog: Catalog, jobs: int | None = None) -> Iterator[Checked]:
    """Results in the order of `specs`, computed `jobs` at a time (default: one per core)."""
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
    first = sorted(specs, key=lambda s: -catalog.fixture_path(s).stat().st_size)
    try:
        with ThreadPoolExecutor(jobs) as pool:
            futures = {spec.id: pool.submit(run, spec) for spec in first}
            for spec in specs:
                yield futures[spec.id].result()
    finally:
        while not workers.empty():
            workers.get().close()


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
