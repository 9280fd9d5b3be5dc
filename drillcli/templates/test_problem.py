"""$id: correct alternatives must pass with a margin; realistic bugs must fail, each on at
least two cases. Replace these with the alternatives and bugs of your problem."""

from pathlib import Path

import pytest

from drillcli.testing import assert_rejected, assert_within_half_tolerance, grade_source, mutate, problem_at

SPEC = problem_at(Path(__file__).resolve().parents[$depth] / "problems" / "$local_id")

$cases


@pytest.mark.parametrize("name", CORRECT)
def test_correct_alternative_passes(name):
    assert_within_half_tolerance(grade_source(SPEC, CORRECT[name]))


@pytest.mark.parametrize("name", BUGS)
def test_bug_is_rejected(name):
    assert_rejected(grade_source(SPEC, BUGS[name]))


def test_enough_alternatives_and_bugs():
    """The catalog's bar: at least 3 correct alternatives in different styles, at least 5 bugs."""
    assert len(CORRECT) >= 3 and len(BUGS) >= 5, f"{len(CORRECT)} alternatives, {len(BUGS)} bugs"
