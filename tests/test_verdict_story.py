"""One verdict, one story (issue 9 §1): the summary line agrees with the panel, the panel shows
the failure that best explains the bug, the other failing cases' notes sit under it, error
columns are filled for custom checks too, and errors raised by drill's own code on what the
user returned are reported as what the user returned. Real grades through the real worker."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from drillcli.render import verdict_document, verdict_view
from drillcli.verdict import KIND_EXPLANATIONS, CaseResult, Verdict
from tests.support import describe, mutate

SOLUTIONS = Path(__file__).resolve().parent.parent / "solutions"


def _solution(module: str) -> str:
    return (SOLUTIONS / f"{module}.py").read_text()


def _render(verdict: Verdict, width: int = 100) -> str:
    console = Console(width=width, record=True, color_system=None)
    with console.capture() as captured:
        console.print(verdict_view(verdict))
    return captured.get()


def _panel_title(text: str) -> str:
    return next(line for line in text.splitlines() if "failure: " in line)


def test_summary_names_what_the_panel_shows_when_cases_fail_in_different_ways(grade_source):
    # masked cases raise, the others give wrong values: both the panel and the summary speak of the exception
    verdict = grade_source("attention", """
        import math, torch
        def scaled_dot_product_attention(q, k, v, mask=None):
            if mask is not None:
                raise ValueError("masks are not handled yet")
            w = torch.softmax(q @ k.transpose(-2, -1), dim=-1)
            return w @ v, w
    """)
    kinds = {c.kind for c in verdict.failures()}
    assert {"exception", "value"} <= kinds, describe(verdict)
    first = verdict.first_failure()
    assert first.kind == "exception" and verdict.explanation == KIND_EXPLANATIONS["exception"]
    text = _render(verdict)
    assert first.name in _panel_title(text) and "masks are not handled yet" in text
    assert "your code raised an exception" in text.splitlines()[-2] + text.splitlines()[-1]


def test_the_panel_prefers_a_clear_miss_over_a_marginal_one_and_a_case_that_names_its_rule(grade_source):
    # AdamW with eps inside the square root: the float64 cases without a note miss by more
    # tolerances, but the panel shows a case whose note speaks of eps
    source = mutate(_solution("adamw"), ("v_hat.sqrt() + self.eps", "(v_hat + self.eps).sqrt()"))
    verdict = grade_source("adamw", source)
    first = verdict.first_failure()
    assert first.kind == "value" and first.tol_used >= 100, describe(verdict)
    assert "eps" in first.note, describe(verdict)
    text = _render(verdict)
    assert first.name in _panel_title(text)
    assert f"you returned {first.returned}" in " ".join(text.split()) and "params: tensor float" in first.returned


def test_marginal_misses_yield_to_clear_ones(grade_source):
    # RMSNorm with eps outside the root: off by ~1e-5 on ordinary rows, by ~1 on tiny values
    source = mutate(_solution("rmsnorm"), ("torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + eps)",
                                           "1 / (x.pow(2).mean(dim=-1, keepdim=True).sqrt() + eps)"))
    verdict = grade_source("rmsnorm", source)
    values = [c for c in verdict.failures() if c.kind == "value"]
    assert any(c.tol_used < 100 for c in values) and any(c.tol_used >= 100 for c in values), describe(verdict)
    first = min(values, key=CaseResult.telling)
    assert first.tol_used >= 100 and first.note


def test_every_failing_case_note_is_listed_under_the_panel(grade_source):
    source = mutate(_solution("adamw"), ("v_hat.sqrt() + self.eps", "(v_hat + self.eps).sqrt()"))
    verdict = grade_source("adamw", source)
    text = " ".join(_render(verdict, width=200).split())
    assert "also failing:" in text
    first = verdict.first_failure()
    for case in verdict.failures():
        if case.note and case.message != first.message:
            assert case.name in text and " ".join(case.note.split()) in text, case.name


def test_the_panel_shows_dtype_and_shape_of_what_was_returned(grade_source):
    verdict = grade_source("rmsnorm", _solution("rmsnorm").replace("return x * inv_rms * weight",
                                                                   "return (x * inv_rms * weight).double()"))
    first = verdict.first_failure()
    assert first.kind == "dtype", describe(verdict)
    assert "out: tensor float64 (" in first.returned
    assert "you returned out: tensor float64" in _render(verdict)


def test_sampler_error_columns_are_measured_on_passing_and_failing_cases(grade_source):
    # probs right (float32 softmax: not bit-exact), samples drawn without the temperature
    verdict = grade_source("temperature-sampling", """
        import torch
        def temperature_sample(logits, temperature, num_samples, generator):
            probs = torch.softmax(logits / temperature, dim=-1)
            plain = torch.softmax(logits, dim=-1)
            return probs, torch.multinomial(plain, num_samples, replacement=True, generator=generator)
    """)
    document = verdict_document(verdict, None)
    failing = [c for c in document["cases"] if c["status"] == "fail"]
    passing = [c for c in document["cases"] if c["status"] == "pass"]
    assert failing, describe(verdict)
    assert all(c["errors"]["max_abs"] is not None for c in document["cases"])
    assert any(c["errors"]["max_abs"] > 0 for c in passing)


def test_linear_attention_check_reports_real_errors(grade_source):
    source = _solution("linear_attention").replace("q, k = F.elu(q) + 1, F.elu(k) + 1", "q, k = F.relu(q) + 1, F.relu(k) + 1")
    verdict = grade_source("linear-attention", source)
    document = verdict_document(verdict, None)
    failing = [c for c in document["cases"] if c["status"] == "fail"]
    assert failing and all(c["errors"]["max_abs"] is not None and c["errors"]["max_abs"] > 0 for c in failing)
    assert verdict.first_failure().message.startswith(("out", "grad"))


def test_a_one_element_loss_is_reported_as_its_shape_not_as_a_backward_error(grade_source):
    source = mutate(_solution("cross_entropy"), ("* uniform).mean()", "* uniform).mean().reshape(1)"))
    verdict = grade_source("cross-entropy", source)
    first = verdict.first_failure()
    assert verdict.status == "failed" and first.kind == "shape", describe(verdict)
    assert "expected a 0-dim tensor, got shape (1,)" in first.message
    assert "raised" not in _render(verdict)


def test_state_kept_on_self_is_reported_as_what_was_returned(grade_source):
    verdict = grade_source("kv-cache", """
        import math, torch
        import torch.nn as nn

        class CachedSelfAttention(nn.Module):
            def __init__(self, d_model, num_heads):
                super().__init__()
                self.h = num_heads
                self.W_q, self.W_k, self.W_v, self.W_o = (nn.Linear(d_model, d_model) for _ in range(4))
                self.k = self.v = None

            def forward(self, x, cache=None):
                B, T, D = x.shape
                hd = D // self.h
                split = lambda t: t.reshape(B, T, self.h, hd).transpose(1, 2)
                q, k, v = split(self.W_q(x)), split(self.W_k(x)), split(self.W_v(x))
                if cache is None:
                    self.k, self.v = k, v
                else:
                    self.k, self.v = torch.cat([self.k, k], dim=2), torch.cat([self.v, v], dim=2)
                k, v = self.k, self.v
                P = k.shape[2] - T
                s = q @ k.transpose(-2, -1) / math.sqrt(hd)
                s = s.masked_fill(torch.arange(k.shape[2])[None, :] > torch.arange(T)[:, None] + P, float("-inf"))
                out = torch.softmax(s, -1) @ v
                return self.W_o(out.transpose(1, 2).reshape(B, T, D)), (k, v)
    """)
    interleaved = next(c for c in verdict.cases if c.name == "two-streams-interleaved")
    assert interleaved.kind == "wrong_return", describe(verdict)
    assert interleaved.message.startswith("your code returned values drill could not use")
    assert "no per-sequence state" in interleaved.note
    text = _render(verdict)
    assert "raised" not in text and "no per-sequence state" in text


def test_failure_order_is_structure_first_then_clear_misses_then_notes():
    def case(name: str, kind: str, used: float | None = None, note: str = "") -> CaseResult:
        return CaseResult(name, "", "fail" if kind in ("value", "shape", "nan") else "error", kind=kind,
                          tol_used=used, note=note)

    verdict = Verdict("x", "failed", cases=[case("marginal", "value", 3.0, "rule"), case("clear", "value", 1e6),
                                            case("clear-noted", "value", 500.0, "rule")])
    assert verdict.first_failure().name == "clear-noted"
    verdict.cases.append(case("nan", "nan"))
    assert verdict.first_failure().name == "nan"
    verdict.cases.append(case("raised", "exception"))
    assert verdict.first_failure().name == "raised" and verdict.explanation == KIND_EXPLANATIONS["exception"]
