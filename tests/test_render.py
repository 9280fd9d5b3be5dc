"""How things look in a terminal: verdicts and the problem list stay readable at 80 columns."""

from rich.console import Console

from drillcli.render import CaseTable, verdict_view
from drillcli.verdict import CaseResult, Verdict


def _render(renderable, width: int = 80) -> str:
    console = Console(width=width, record=True, color_system=None)
    with console.capture() as captured:
        console.print(renderable)
    return captured.get()


def _verdict() -> Verdict:
    verdict = Verdict("rope", "failed")
    verdict.cases = [
        CaseResult("readable-positions-0-1-2", "x(2,4,3,16) positions(4)", "error", kind="modified_input"),
        CaseResult("batch", "x(2,5,16)", "fail", kind="value", max_abs=0.84, max_rel=0.42),
        CaseResult("shape", "x(2)", "fail", kind="shape"),
        CaseResult("ok", "x(2)", "pass", max_abs=1e-7, max_rel=2e-7),
    ]
    return verdict


def test_CaseTable_fits_80_columns_and_keeps_both_error_columns():
    text = _render(CaseTable(_verdict()))
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "8.40e-01" in text and "4.20e-01" in text


def test_CaseTable_labels_say_what_went_wrong_briefly():
    lines = _render(CaseTable(_verdict()), width=120).splitlines()
    row = {line.split()[0]: line for line in lines if line.strip()}
    assert "modified input" in row["readable-positions-0-1-2"]
    assert "FAIL" in row["batch"] and "value" not in row["batch"]
    assert "FAIL shape" in row["shape"]
    assert "pass" in row["ok"]


def test_a_stub_not_implemented_shows_no_table_of_identical_errors():
    verdict = Verdict("rope", "not_implemented")
    verdict.cases = [CaseResult(f"case-{i}", "x(2)", "error", kind="not_implemented",
                                message="not implemented yet (NotImplementedError)") for i in range(20)]
    text = _render(verdict_view(verdict))
    assert "case-3" not in text and "0/20 cases passed" in text and "not implemented" in text


def test_problem_list_wraps_titles_to_the_terminal_and_colours_only_when_asked():
    from drillcli.catalog import Catalog
    from drillcli.listing import problem_lines

    specs = sorted(Catalog().summaries(), key=lambda s: (s.family, s.id))
    plain = problem_lines(specs, width=70, color=False)
    assert max(len(line) for line in plain) <= 70 and "\033" not in "".join(plain)
    assert sum(line.startswith("  ") and not line.startswith("   ") for line in plain) == len(specs)  # a row each
    assert "\033[1m" in "".join(problem_lines(specs, width=70, color=True))


def test_CaseTable_at_60_columns_stacks_inputs_and_keeps_both_error_columns():
    text = _render(CaseTable(_verdict()), width=60)
    assert max(len(line) for line in text.splitlines()) <= 60
    assert "8.40e-01" in text and "4.20e-01" in text and "1.00e-07" in text
    first_column = "".join(line.split("│")[0].strip() for line in text.splitlines()[2:6])
    assert first_column == "readable-positions-0-1-2x(2,4,3,16)positions(4)"   # wrapped, never cut


def test_the_summary_line_breaks_between_phrases_only():
    verdict = _verdict()
    for width in (40, 60, 80):
        lines = _render(verdict_view(verdict, elapsed_s=725.0, target_s=600.0), width=width).splitlines()
        phrases = ("1/4 cases passed", verdict.explanation, "since drill start (target")
        for phrase in phrases:
            assert any(phrase in line for line in lines[-3:]), (width, lines[-3:])
