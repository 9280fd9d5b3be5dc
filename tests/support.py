"""Helpers the problem tests share."""

from __future__ import annotations

import importlib
from typing import Any

from drillcli.catalog import Catalog
from drillcli.fixtures import Case, load_cases
from drillcli.verdict import Verdict

# A correct attention submission, as a user would write it: the tests of the engine grade it.
ATTENTION = """
import math, torch
def scaled_dot_product_attention(q, k, v, mask=None):
    s = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        s = s.masked_fill(mask == 0, float("-inf"))
    w = torch.softmax(s, dim=-1)
    return w @ v, w
"""


def describe(verdict: Verdict) -> str:
    """A verdict summary for assertion messages."""
    first = verdict.first_failure()
    where = f"; first failure {first.name}: {first.message} {first.detail}" if first else ""
    return f"{verdict.status} {verdict.passed}/{verdict.total} {verdict.message}{where}"


def reference(problem_id: str) -> Any:
    """The reference solution's entry point."""
    spec = Catalog().spec(problem_id)
    return getattr(importlib.import_module(f"drillcli.solutions.{spec.module_name}"), spec.entry)


def stored_cases(problem_id: str) -> list[Case]:
    """The problem's stored fixture cases, expected outputs included."""
    catalog = Catalog()
    return load_cases(catalog.fixture_path(catalog.spec(problem_id)))


def mutate(source: str, *pairs: tuple[str, str], count: int = 1) -> str:
    """`source` with each (old, new) replaced in turn. Each `old` must occur exactly `count`
    times, so that a typo cannot leave a "bug" identical to the correct code."""
    for old, new in pairs:
        assert source.count(old) == count, f"expected {count} occurrence(s) of {old!r}"
        source = source.replace(old, new)
    return source


def failing_cases(verdict: Verdict) -> list[str]:
    """Names of the cases a verdict fails (wrong values or an error), in table order."""
    return [c.name for c in verdict.cases if c.status in ("fail", "error")]


def assert_rejected(verdict: Verdict, at_least: int = 2) -> None:
    """A bug must fail at least `at_least` cases, so that editing one case cannot hide it.
    A verdict with no case table (syntax error, forbidden API at import) counts as rejected."""
    assert not verdict.ok, describe(verdict)
    if verdict.cases:
        failing = failing_cases(verdict)
        assert len(failing) >= at_least, f"rejected by {len(failing)} case(s) only: {failing}; {describe(verdict)}"


def assert_within_half_tolerance(verdict: Verdict) -> None:
    """A correct solution must pass every case using at most half of its tolerance, so that
    a different (still correct) order of float operations cannot tip it over."""
    assert verdict.ok, describe(verdict)
    tight = {c.name: round(c.tol_used, 3) for c in verdict.cases if c.tol_used is not None and c.tol_used > 0.5}
    assert not tight, f"cases using over half of the tolerance: {tight}"


def assert_near_miss(verdict: Verdict, problem_id: str, variant: str) -> None:
    """A file written in the other convention `variant` fails (never passes) and its verdict
    names that convention, in the summary as in `--json`."""
    spec = Catalog().spec(problem_id)
    message, _ = importlib.import_module(f"drillcli.graders.{spec.module_name}").NEAR_MISSES[variant]
    assert verdict.status == "failed", describe(verdict)
    assert verdict.near_miss == message, f"near miss {verdict.near_miss!r}; {describe(verdict)}"
    assert verdict.explanation == message
