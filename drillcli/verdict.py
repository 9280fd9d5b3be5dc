"""What a grade found: one result per case and an overall status. Plain data."""

from __future__ import annotations

from dataclasses import dataclass, field

EXPLANATIONS = {
    "passed": "all cases pass",
    "failed": "some cases give wrong results",
    "not_implemented": "not implemented yet: the entry still raises NotImplementedError",
    "syntax_error": "your file has a syntax error",
    "import_error": "your file failed while being imported",
    "missing_entry": "your file does not define the entry point",
    "forbidden": "your code uses an API this problem forbids",
    "timeout": "time limit reached",
    "too_slow": "correct but too slow: the scaling check failed",
    "memory": "memory limit exceeded",
    "exit": "your code called sys.exit / exit()",
    "crash": "the grading process crashed",
    "wrong_return": "your code returns the wrong type or number of values",
    "modified_input": "your code modifies an input in place",
    "error": "your code raised an exception",
}


@dataclass
class CaseResult:
    name: str
    shapes: str
    status: str                    # pass | fail | error | not_run
    kind: str = ""                 # what went wrong: value, shape, dtype, nan, type, exception, timeout, ...
    message: str = ""              # one line
    detail: str = ""               # several lines: index, expected vs got, traceback
    max_abs: float | None = None
    max_rel: float | None = None
    tol_used: float | None = None  # worst err / (atol + rtol |expected|): above 1 fails
    seconds: float | None = None

    @property
    def passed(self) -> bool:
        return self.status == "pass"


@dataclass
class Verdict:
    problem: str
    status: str
    cases: list[CaseResult] = field(default_factory=list)
    message: str = ""              # module-level error, one line
    detail: str = ""               # module-level error, several lines
    output: str = ""               # the head of what the user's code printed
    printed_bytes: int = 0
    code_hash: str | None = None   # of the bytes that were graded

    @property
    def passed(self) -> int:
        return sum(c.passed for c in self.cases)

    @property
    def total(self) -> int:
        return len(self.cases)

    @property
    def ok(self) -> bool:
        return self.status == "passed"

    @property
    def explanation(self) -> str:
        return EXPLANATIONS.get(self.status, self.status)

    def first_failure(self) -> CaseResult | None:
        return next((c for c in self.cases if c.status in ("fail", "error")), None)
