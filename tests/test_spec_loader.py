"""Spec validation and problem-id resolution: every bad input names what is wrong."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from drillcli.catalog import Catalog, UnknownProblem, builtin_root
from drillcli.spec import SpecError, load_spec


@pytest.fixture
def spec_file(tmp_path: Path) -> Path:
    folder = tmp_path / "problems" / "attention"
    shutil.copytree(builtin_root() / "problems" / "attention", folder)
    return folder / "spec.yaml"


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_the_builtin_specs_load():
    assert "attention" in Catalog().ids
    assert Catalog().spec("attention").entry == "scaled_dot_product_attention"


@pytest.mark.parametrize("old, new, field, expected", [
    ("difficulty: easy", "difficulty: trivial", "difficulty", "one of easy, medium, hard"),
    ("target_minutes: 10", "target_minutes: soon", "target_minutes", "a positive number"),
    ("target_minutes: 10", "target_minutes: -3", "target_minutes", "a positive number"),
    ("family: attention", "family: magic", "family", "one of attention"),
    ("entry: scaled_dot_product_attention", "entry: not an identifier", "entry", "a Python identifier"),
    ("id: attention", "id: other", "id", "the folder name 'attention'"),
    ("hints:", "hint:", "hint", "one of the known fields"),
    ("  float32: {atol: 1.0e-5, rtol: 1.0e-4}", "  float32: {atol: -1, rtol: 1.0e-4}", "tolerance.float32.atol",
     "a non-negative number"),
])
def test_malformed_field_names_file_field_and_expectation(spec_file, old, new, field, expected):
    _edit(spec_file, old, new)
    with pytest.raises(SpecError) as info:
        load_spec(spec_file)
    message = str(info.value)
    assert str(spec_file) in message and f"field '{field}'" in message and expected in message


def test_missing_field(spec_file):
    text = "\n".join(line for line in spec_file.read_text().splitlines() if not line.startswith("title:"))
    spec_file.write_text(text)
    with pytest.raises(SpecError, match="field 'title'.*missing"):
        load_spec(spec_file)


def test_invalid_yaml_gives_the_line(spec_file):
    spec_file.write_text("id: attention\ntitle: [unclosed\n")
    with pytest.raises(SpecError, match=r"valid YAML \(line \d+\)"):
        load_spec(spec_file)


def test_followup_without_answer(spec_file):
    _edit(spec_file, "  - q: Why divide the scores by sqrt(d)?\n", "  - q: Why divide the scores by sqrt(d)?\n    x: 1\n")
    with pytest.raises(SpecError, match=r"followups\[0\]"):
        load_spec(spec_file)


@pytest.mark.parametrize("query, expected", [
    ("attention", "attention"), ("ATTENTION", "attention"), ("sdpa", "attention"), ("mha", "multihead-attention"),
    ("multihead", "multihead-attention"), ("rmsn", "rmsnorm"), ("multihead_attention", "multihead-attention"),
])
def test_resolve_ids_prefixes_and_aliases(query, expected):
    assert Catalog().resolve(query) == expected


def test_unknown_id_suggests_the_nearest():
    with pytest.raises(UnknownProblem) as info:
        Catalog().resolve("atention")
    assert "attention" in info.value.suggestions and "Did you mean" in str(info.value)


def test_unknown_id_without_neighbours_points_to_list():
    with pytest.raises(UnknownProblem, match="drill list"):
        Catalog().resolve("zzzzqqqq")
