"""Named near misses (issue 9 §2): a grader's NEAR_MISSES are run at build time, stored in the
fixture, re-checked for drift, and named in the verdict when they explain every failing case."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from rich.console import Console

from drillcli.catalog import Catalog
from drillcli.checking import differences
from drillcli.compare import compare_case, near_miss
from drillcli.fixtures import Case, load_cases, make_case, save_cases
from drillcli.render import verdict_document, verdict_view
from drillcli.verdict import CaseResult, Verdict

SPEC = Catalog().spec("rope")
MESSAGES = {"flipped": ("your output matches the flipped convention", None),
            "doubled": ("your output matches the doubled convention", None)}
TYPES = {"out": {"type": "tensor", "dtype": "float64"}}


def _case(name: str, expected: list[float], **near: list[float]) -> Case:
    case = make_case(name, {"x": np.array(expected)}, dtype="float64")
    case.outputs, case.out_types = {"out": np.array(expected)}, TYPES
    case.near = {v: {"out": np.array(values)} for v, values in near.items()}
    return case


CASES = [_case("a", [1.0, 2.0], flipped=[-1.0, -2.0], doubled=[2.0, 4.0]),
         _case("b", [3.0, 0.0], flipped=[-3.0, 0.0], doubled=[6.0, 0.0]),
         _case("c", [0.0, 0.0])]   # no variant differs here: they all give the expected outputs


def _named(*got: list[float]) -> str:
    returned = {i: {"out": np.array(values)} for i, values in enumerate(got)}
    results = [compare_case(SPEC, case, returned[i], TYPES) for i, case in enumerate(CASES)]
    return near_miss(SPEC, CASES, results, returned, MESSAGES)


def test_named_when_every_failing_case_matches_the_variant():
    assert _named([-1.0, -2.0], [-3.0, 0.0], [0.0, 0.0]) == MESSAGES["flipped"][0]
    assert _named([2.0, 4.0], [3.0, 0.0], [0.0, 0.0]) == MESSAGES["doubled"][0]   # b passes: a alone decides


def test_not_named_when_a_failing_case_does_not_match():
    assert _named([-1.0, -2.0], [-3.0, 1.0], [0.0, 0.0]) == ""
    assert _named([-1.0, -2.0], [6.0, 0.0], [0.0, 0.0]) == ""        # two variants, one each: neither explains all
    assert _named([-1.0, -2.0], [-3.0, 0.0], [5.0, 0.0]) == ""       # c fails where no variant differs


def test_never_named_on_a_pass():
    assert _named([1.0, 2.0], [3.0, 0.0], [0.0, 0.0]) == ""


def test_not_named_when_a_failure_is_structural():
    returned = {0: {"out": np.array([-1.0, -2.0])}, 1: {"out": np.array([-3.0, 0.0])}}
    results = [compare_case(SPEC, CASES[0], returned[0], TYPES), compare_case(SPEC, CASES[1], returned[1], TYPES),
               CaseResult("c", "", "error", kind="exception", message="boom")]
    assert near_miss(SPEC, CASES, results, returned, MESSAGES) == ""


def test_nan_where_the_variant_has_nan_matches():
    case = _case("n", [1.0, 2.0], flipped=[np.nan, -2.0])
    got = {0: {"out": np.array([np.nan, -2.0])}}
    results = [compare_case(SPEC, case, got[0], TYPES)]
    assert results[0].kind == "nan"
    assert near_miss(SPEC, [case], results, got, MESSAGES) == MESSAGES["flipped"][0]
    got = {0: {"out": np.array([7.0, -2.0])}}   # finite where the variant has NaN: not that variant
    assert near_miss(SPEC, [case], [compare_case(SPEC, case, got[0], TYPES)], got, MESSAGES) == ""


def test_fixture_round_trip_and_drift(tmp_path: Path):
    path = tmp_path / "f.npz"
    save_cases(path, "rope", CASES)
    loaded = load_cases(path)
    assert {v: o["out"].tolist() for v, o in loaded[0].near.items()} == {"flipped": [-1.0, -2.0], "doubled": [2.0, 4.0]}
    assert loaded[2].near == {} and load_cases(path, with_outputs=False)[0].near == {}
    assert differences(SPEC, loaded, load_cases(path)) == []
    changed = load_cases(path)
    changed[1].near["flipped"]["out"] = np.array([-3.0, 1.0])
    del changed[0].near["doubled"]
    assert differences(SPEC, loaded, changed) == ["rope/a: near miss doubled: output out differs",
                                                  "rope/b: near miss flipped: output out differs"]


def test_shown_first_in_the_panel_in_the_summary_and_in_json():
    failure = CaseResult("a", "x(2)", "fail", kind="value", message="out: 2 of 2 values differ")
    verdict = Verdict("rope", "failed", cases=[failure], near_miss="your output matches the flipped convention")
    console = Console(width=100, record=True, color_system=None)
    with console.capture() as captured:
        console.print(verdict_view(verdict))
    lines = captured.get().splitlines()
    panel = next(i for i, line in enumerate(lines) if "failure: a" in line)
    assert "flipped convention" in lines[panel + 1]
    assert "flipped convention" in lines[-1]
    assert verdict_document(verdict, None)["near_miss"] == verdict.near_miss


def test_variant_outputs_never_reach_the_worker(grade_source, monkeypatch):
    from drillcli import runner

    sent: list[list[Case]] = []
    real = runner.save_cases
    monkeypatch.setattr(runner, "save_cases", lambda path, pid, cases, **kw: (sent.append(cases), real(path, pid, cases, **kw)))
    grade_source("rope", "def apply_rope(x, positions=None, base=10000.0):\n    return x\n")
    assert sent and all(not c.near and not c.outputs for c in sent[0])
