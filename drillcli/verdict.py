"""What a grade found: one result per case and an overall status. Plain data."""

from __future__ import annotations

import math
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
    "wrong_return": "your code returns values of the wrong type, number or shape",
    "modified_input": "your code modifies an input in place",
    "error": "your code raised an exception",
}


# What the summary line says when the failure the panel shows is of this kind.
KIND_EXPLANATIONS = {
    **EXPLANATIONS,
    "exception": EXPLANATIONS["error"],
    "not_implemented": "part of your code still raises NotImplementedError",
    "type": "an output has the wrong type",
    "shape": "an output has the wrong shape",
    "dtype": "an output has the wrong dtype",
    "nan": "an output has NaN/inf where finite values are expected",
    "value": "some cases give wrong values",
}

# The failure that best explains a bug comes first: errors that stop a case (in the order the
# overall status weighs them), then wrong structure, then wrong values.
FAILURE_ORDER = ("forbidden", "memory", "timeout", "exit", "too_slow", "wrong_return", "modified_input",
                 "exception", "crash", "not_implemented", "type", "shape", "dtype", "nan", "value")
CLEAR_MISS = 100.0   # an error this many times the tolerance is a bug, not rounding


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
    note: str = ""                 # what the case is for (the rule it checks)
    returned: str = ""             # what the user's code returned, e.g. "out: tensor float32 (2, 4, 8)"

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    @property
    def failed(self) -> bool:
        return self.status in ("fail", "error")

    def telling(self) -> tuple[int, int, int, float]:
        """Sort key: the smaller, the better this failure explains the bug. By kind first;
        among wrong values, a clear miss before a marginal one, then a case whose note states
        the rule it checks, then the largest error relative to the tolerance."""
        order = FAILURE_ORDER.index(self.kind) if self.kind in FAILURE_ORDER else FAILURE_ORDER.index("crash")
        used = self.tol_used if self.tol_used is not None else math.inf
        return order, int(used < CLEAR_MISS), int(not self.note), -used


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
    near_miss: str = ""            # the known other convention the wrong outputs match, if any

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
        """One phrase for the summary line; it names what the panel shows (a near miss
        names the convention that explains every failing case)."""
        if self.near_miss:
            return self.near_miss
        first = None if self.message else self.first_failure()
        if first is not None and first.kind in KIND_EXPLANATIONS:
            return KIND_EXPLANATIONS[first.kind]
        return EXPLANATIONS.get(self.status, self.status)

    def failures(self) -> list[CaseResult]:
        return [c for c in self.cases if c.failed]

    def first_failure(self) -> CaseResult | None:
        """The failure that best explains the bug (the one the panel shows), not the first
        in table order: see CaseResult.telling. Ties keep table order."""
        return min(self.failures(), key=CaseResult.telling, default=None)
