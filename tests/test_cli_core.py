"""The core commands as a user types them: list, show, start, grade, and their exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from drillcli.cli import app

runner = CliRunner()
SOLUTION = Path("solutions/attention.py").resolve()


def drill(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False, env={"COLUMNS": "200"})


@pytest.mark.parametrize("args", [["--help"], ["list"], ["show", "attention"], ["grade", "--help"]])
def test_fast_commands_do_not_import_torch(args):
    code = ("import sys\nfrom drillcli.cli import app\n"
            f"try:\n    app({args!r})\nexcept SystemExit:\n    pass\n"
            "print('HEAVY', [m for m in ('torch', 'numpy') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ)
    assert "HEAVY []" in out.stdout, out.stdout + out.stderr


def test_list_shows_every_problem_with_its_columns():
    result = drill("list")
    assert result.exit_code == 0
    for text in ("attention", "multihead-attention", "layernorm", "rope", "lis", "level", "min", "status"):
        assert text in result.output


def test_list_groups_by_family_and_filters_by_family_prefix():
    result = drill("list", "--family", "norm")
    assert result.exit_code == 0
    lines = [line.strip() for line in result.output.splitlines()]
    assert "normalization" in lines  # the family's heading row
    assert any(line.startswith("rmsnorm") for line in lines) and "attention" not in result.output


def test_list_unknown_family_suggests_the_nearest():
    result = drill("list", "--family", "norms")
    assert result.exit_code == 2 and "did you mean normalization?" in result.output


def test_show_renders_the_prompt():
    result = drill("show", "sdpa")
    assert result.exit_code == 0 and "Scaled dot-product attention" in result.output and "Lq" in result.output


def test_unknown_problem_exits_2_with_a_suggestion():
    result = drill("show", "atention")
    assert result.exit_code == 2 and "Did you mean" in result.output and "attention" in result.output


def test_grade_with_nothing_started_says_what_to_type():
    result = drill("grade")
    assert result.exit_code == 2 and "drill start" in result.output


def test_start_copies_the_stub_and_grade_reports_not_implemented():
    result = drill("start", "attention")
    assert result.exit_code == 0
    workspace_file = Path(os.environ["DRILL_WORKSPACE"]) / "attention.py"
    assert workspace_file.read_text() == Path("problems/attention/stub.py").read_text()
    assert str(workspace_file) in result.output.replace("\n", "")
    graded = drill("grade")
    assert graded.exit_code == 1
    assert "not implemented" in graded.output and "0/" in graded.output and "since drill start" in graded.output


def test_grade_passes_with_exit_0_after_start():
    drill("start", "attention")
    workspace_file = Path(os.environ["DRILL_WORKSPACE"]) / "attention.py"
    workspace_file.write_text(SOLUTION.read_text())
    result = drill("grade", "attention")
    assert result.exit_code == 0, result.output
    assert "cases passed" in result.output


def test_grade_file_option_and_json_output():
    result = drill("grade", "attention", "--file", str(SOLUTION), "--json")
    assert result.exit_code == 0
    document = json.loads(result.output)
    assert document["problem"] == "attention" and document["status"] == "passed"
    assert document["score"]["passed"] == document["score"]["total"] >= 20


def test_grade_missing_file_is_a_usage_error(tmp_path):
    result = drill("grade", "attention", "--file", str(tmp_path / "nope.py"))
    assert result.exit_code == 2 and "no file" in result.output


def test_installed_console_script_runs():
    script = Path(sys.executable).with_name("drill")  # the script installed beside this interpreter
    out = subprocess.run([str(script), "list"], capture_output=True, text=True)
    assert out.returncode == 0 and "attention" in out.stdout
