"""The whole catalog is consistent: specs load, fixtures are reproducible from the
reference solutions, every reference passes and every stub fails as not implemented."""

from __future__ import annotations

import subprocess
import sys

import pytest

from drillcli.build import drift
from drillcli.catalog import Catalog
from drillcli.fixtures import load_cases
from drillcli.runner import grade

CATALOG = Catalog()
IDS = CATALOG.ids


@pytest.mark.parametrize("problem_id", IDS)
def test_fixtures_are_reproducible_from_the_reference(problem_id):
    assert drift(CATALOG.spec(problem_id), CATALOG) == []


@pytest.mark.parametrize("problem_id", IDS)
def test_cases_are_many_named_and_distinct(problem_id):
    spec = CATALOG.spec(problem_id)
    cases = load_cases(CATALOG.fixture_path(spec))
    assert len(cases) >= 20
    assert len({c.name for c in cases}) == len(cases)
    signatures = set()
    for case in cases:
        signature = tuple((k, v.tobytes() if hasattr(v, "tobytes") else repr(v)) for k, v in case.inputs.items())
        signature += (repr(case.init), case.noncontig, case.dtype)
        assert signature not in signatures, f"{case.name} repeats an earlier case"
        signatures.add(signature)


@pytest.mark.parametrize("problem_id", IDS)
def test_reference_passes_and_stub_is_not_implemented(problem_id, warm_worker):
    spec = CATALOG.spec(problem_id)
    reference = grade(spec, CATALOG.solution_path(spec), CATALOG, worker=warm_worker)
    assert reference.ok, f"{reference.status}: {reference.first_failure()}"
    stub = grade(spec, spec.folder / "stub.py", CATALOG, worker=warm_worker)
    assert stub.status == "not_implemented", stub.status


@pytest.mark.parametrize("problem_id", IDS)
def test_spec_is_complete(problem_id):
    spec = CATALOG.spec(problem_id)
    assert len(spec.hints) >= 2 and 2 <= len(spec.followups) <= 4
    assert spec.entry in (spec.folder / "stub.py").read_text()
    assert CATALOG.solution_path(spec).exists()


def test_graders_do_not_import_torch_at_module_level():
    code = ("import importlib, sys\n"
            f"for m in {[CATALOG.spec(i).module_name for i in IDS]!r}:\n"
            "    importlib.import_module('drillcli.graders.' + m)\n"
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_aliases_are_unique_and_not_ids():
    seen: dict[str, str] = {}
    for spec in CATALOG.specs():
        for alias in spec.aliases:
            assert alias not in IDS, f"alias {alias} of {spec.id} is another problem's id"
            assert alias not in seen, f"alias {alias} used by {seen.get(alias)} and {spec.id}"
            seen[alias] = spec.id
