"""Helpers the problem tests share; the assertions are drill's public testing helpers."""

from __future__ import annotations

from typing import Any

from drillcli import testing
from drillcli.catalog import Catalog
from drillcli.fixtures import Case, load_cases
from drillcli.testing import (assert_rejected, assert_within_half_tolerance, describe,  # noqa: F401 - re-exported
                              failing_cases, mutate)
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


def reference(problem_id: str) -> Any:
    """The reference solution's entry point."""
    spec = Catalog().spec(problem_id)
    return getattr(spec.module("solutions"), spec.entry)


def stored_cases(problem_id: str) -> list[Case]:
    """The problem's stored fixture cases, expected outputs included."""
    catalog = Catalog()
    return load_cases(catalog.fixture_path(catalog.spec(problem_id)))


def graders_check(problem_id: str, case: Case, got: dict) -> str | None:
    """The grader's own `check` of `got`, called as the comparison calls it (with the
    problem's tolerance in reach of `compare.tolerance`)."""
    from drillcli.compare import comparing

    spec = Catalog().spec(problem_id)
    with comparing(spec):
        return spec.module("graders").check(case, got)


def assert_near_miss(verdict: Verdict, problem_id: str, variant: str) -> None:
    """A file written in the other convention `variant` fails and its verdict names it."""
    testing.assert_near_miss(verdict, Catalog().spec(problem_id), variant)
