"""Packs: problems outside the package, added with `drill pack add` or DRILL_PACKS, that
go through new, build-fixtures, check, start, grade and review like built-in ones; a broken
pack is one line and never a traceback, and a submission cannot read a pack's answers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from drillcli import paths
from drillcli.catalog import Catalog
from drillcli.testing import grade_source
from tests.practice_support import at, drill, practice_env, store  # noqa: F401 - practice_env is autouse

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "pack"


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "pack"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    return folder


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    """A copy of the example pack, added."""
    folder = _copy(tmp_path)
    added = drill("pack", "add", str(folder))
    assert added.exit_code == 0 and "added pack extras" in added.output, added.output
    return folder


def test_the_example_pack_goes_through_new_build_check_start_grade_and_review(pack, monkeypatch):
    assert drill("new", "softsign", "--pack", str(pack)).exit_code == 0
    spec = pack / "problems" / "softsign" / "spec.yaml"
    spec.write_text(spec.read_text().replace("TODO", "Written"))      # the author fills in each TODO
    assert drill("build-fixtures", "extras/softsign").exit_code == 0
    checked = drill("check", "extras/softsign", "extras/gelu", "extras/cosine-similarity")
    assert checked.exit_code == 0 and checked.output.count("✓") == 3, checked.output
    assert "no Chinese yet (3)" in checked.output                     # listed, not an error

    listed = drill("list").output
    assert "pack extras" in listed and "extras/gelu" in listed and "extras/softsign" in listed
    assert drill("start", "gelu").exit_code == 0                       # a bare id finds the pack's problem
    mine = paths.workspace_file("extras/gelu")
    solution = (pack / "solutions" / "gelu.py").read_text()
    mine.write_text(solution)
    at(monkeypatch, minutes=6)
    assert drill("grade").exit_code == 0

    followups = len(Catalog().spec("extras/gelu").followups)
    at(monkeypatch, days=40)
    assert drill("review", input="q\n").exit_code == 0                 # due: a fresh stub
    mine.write_text(solution)
    at(monkeypatch, days=40, minutes=5)
    assert drill("review", input="\n" + "\n" * followups + "3\n").exit_code == 0
    assert [r.problem for r in store().reviews()] == ["extras/gelu", "extras/gelu"]
    exported = json.loads(drill("export").output)
    assert {a["problem"] for a in exported["attempts"]} == {"extras/gelu"}


def test_drill_packs_adds_a_pack_for_one_shell_and_remove_forgets_an_added_one(tmp_path, monkeypatch):
    folder = _copy(tmp_path)
    monkeypatch.setenv("DRILL_PACKS", str(folder))
    assert "extras/cosine-similarity" in Catalog().ids and "extras" in drill("pack", "list").output
    monkeypatch.delenv("DRILL_PACKS")
    assert drill("pack", "add", str(folder)).exit_code == 0
    removed = drill("pack", "remove", "extras")
    assert removed.exit_code == 0 and "untouched" in removed.output
    assert not any(pid.startswith("extras/") for pid in Catalog().ids) and folder.is_dir()
    assert drill("pack", "remove", "extras").exit_code == 2


def test_an_id_clash_names_both_sources_and_full_ids_always_work(pack):
    shutil.copytree(pack / "problems" / "gelu", pack / "problems" / "attention")
    spec = pack / "problems" / "attention" / "spec.yaml"
    spec.write_text(spec.read_text().replace("id: gelu", "id: attention"))
    clash = drill("show", "attention")
    assert clash.exit_code == 2
    assert "the built-in catalog" in clash.output and f"pack extras ({pack})" in clash.output.replace("\n", "")
    assert "Scaled dot-product attention" in drill("show", "builtin/attention").output
    assert drill("show", "extras/attention").exit_code == 0


@pytest.mark.parametrize("breakage, expected", [
    ("pack-yaml", "not valid YAML"),
    ("spec", "extras/gelu skipped"),
    ("fixtures", "extras/gelu: no fixtures yet"),
    ("newer-drill", "needs drill >=99"),
])
def test_a_broken_pack_is_one_line_in_list_and_every_other_problem_works(pack, breakage, expected):
    if breakage == "pack-yaml":
        (pack / "pack.yaml").write_text("name: [extras\n")
    elif breakage == "spec":
        (pack / "problems" / "gelu" / "spec.yaml").write_text("id: gelu\ntitle: [\n")
    elif breakage == "fixtures":
        (pack / "graders" / "fixtures" / "gelu.npz").unlink()
    else:
        (pack / "pack.yaml").write_text((pack / "pack.yaml").read_text().replace('">=0.1"', '">=99"'))
    listed = drill("list")
    assert listed.exit_code == 0 and "Traceback" not in listed.output
    warnings = [line for line in listed.output.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and expected in warnings[0], listed.output
    assert "attention" in listed.output and drill("show", "rope").exit_code == 0
    assert drill().exit_code == 0 and drill("stats").exit_code == 0     # commands over every spec work too


def test_check_reports_a_reference_that_does_not_import_in_one_line(pack):
    (pack / "solutions" / "gelu.py").write_text("import no_such_module\n")
    checked = drill("check", "extras/gelu", "extras/cosine-similarity")
    assert checked.exit_code == 1 and "Traceback" not in checked.output.split("building the fixtures failed")[0]
    assert "✗ extras/gelu" in checked.output and "✓ extras/cosine-similarity" in checked.output


def test_a_submission_cannot_read_a_packs_reference_or_fixtures(pack):
    spec = Catalog().spec("extras/gelu")
    for target in (pack / "solutions" / "gelu.py", pack / "graders" / "fixtures" / "gelu.npz"):
        verdict = grade_source(spec, f"""
            def gelu(x, approximate="none"):
                open({str(target)!r}, "rb").read()
                return x
            """)
        assert verdict.status == "forbidden", verdict.status


def test_new_refuses_a_bad_id_and_an_existing_problem_and_starts_like_another(pack):
    assert "not a problem id" in drill("new", "Bad_Id", "--pack", str(pack)).output
    assert "exists already" in drill("new", "gelu", "--pack", str(pack)).output
    like = drill("new", "gelu-tanh", "--like", "extras/gelu", "--pack", str(pack))
    assert like.exit_code == 0
    assert "TODO (started from extras/gelu" in (pack / "problems" / "gelu-tanh" / "spec.yaml").read_text()
