"""lora: the reference agrees with a LoRA built on torch.nn.utils.parametrize (the update as a
parametrization of the frozen weight) on every stored case; correct variants pass, realistic
bugs fail (values, init or parameter counts)."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn as nn
import torch.nn.utils.parametrize as P

from drillcli.harness import build_inputs
from drillcli.solutions.lora import LoRALinear
from tests.support import assert_rejected, assert_within_half_tolerance, describe, stored_cases

PROBLEM = "lora"

HEADER = "import math\nimport torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"
INIT = """
class LoRALinear(nn.Module):
    def __init__(self, base, rank, alpha):
        super().__init__()
        self.base = base
        for p in base.parameters():
            p.requires_grad_(False)
        out_f, in_f = base.weight.shape
        dt = base.weight.dtype
        self.lora_A = nn.Parameter(torch.empty(rank, in_f, dtype=dt))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.lora_B = nn.Parameter(torch.zeros(out_f, rank, dtype=dt))
        self.scaling = alpha / rank
        self.merged = False
"""
FORWARD = """
    def forward(self, x):
        y = self.base(x)
        if not self.merged:
            y = y + (x @ self.lora_A.T) @ self.lora_B.T * self.scaling
        return y
"""
MERGE = """
    def merge(self):
        if self.merged:
            return
        with torch.no_grad():
            self.base.weight += self.scaling * (self.lora_B @ self.lora_A)
        self.merged = True
"""


def source(init=INIT, forward=FORWARD, merge=MERGE):
    return HEADER + init + forward + merge


CORRECT = {
    "merged-weight-forward": source(forward="""
    def forward(self, x):
        if self.merged:
            return self.base(x)
        W = self.base.weight + self.scaling * (self.lora_B @ self.lora_A)      # (out, in)
        return F.linear(x, W, self.base.bias)
"""),
    "uniform-init-einsum-data-merge": HEADER + """
class LoRALinear(nn.Module):
    def __init__(self, base, rank, alpha):
        super().__init__()
        base.weight.requires_grad = False
        if base.bias is not None:
            base.bias.requires_grad = False
        self.base, self.rank, self.alpha = base, rank, alpha
        n_out, n_in = base.weight.shape
        bound = 1 / math.sqrt(n_in)
        self.lora_A = nn.Parameter(torch.zeros(rank, n_in, dtype=base.weight.dtype).uniform_(-bound, bound))
        self.lora_B = nn.Parameter(base.weight.new_zeros(n_out, rank))
        self._merged = False

    def forward(self, x):
        out = self.base(x)
        if self._merged:
            return out
        h = torch.einsum("...i,ri->...r", x, self.lora_A)
        return out + torch.einsum("...r,or->...o", h, self.lora_B) * (self.alpha / self.rank)

    def merge(self):
        if not self._merged:
            self.base.weight.data.add_(self.lora_B.data @ self.lora_A.data, alpha=self.alpha / self.rank)
            self._merged = True
""",
    "float64-intermediates-flattened": source(forward="""
    def forward(self, x):
        y = self.base(x)
        if self.merged:
            return y
        shape = x.shape
        x2 = x.reshape(-1, shape[-1]).double()                                  # (N, in)
        delta = (x2 @ self.lora_A.double().T) @ self.lora_B.double().T          # (N, out)
        return y + (self.scaling * delta).to(x.dtype).reshape(*shape[:-1], self.lora_B.shape[0])
""", merge="""
    @torch.no_grad()
    def merge(self):
        if not self.merged:
            delta = (self.lora_B.double() @ self.lora_A.double()) * self.scaling
            self.base.weight.copy_(self.base.weight.double() + delta)
            self.merged = True
"""),
    "delta-weight-method": source(forward="""
    def delta_weight(self):
        return self.lora_B @ self.lora_A * self.scaling                         # (out, in)

    def forward(self, x):
        y = self.base(x)
        return y if self.merged else y + F.linear(x, self.delta_weight())
"""),
}

BUGS = {
    "scaling-is-alpha": source(init=INIT.replace("alpha / rank", "alpha")),
    "scaling-rank-over-alpha": source(init=INIT.replace("alpha / rank", "rank / alpha")),
    "scaling-floor-division": source(init=INIT.replace("alpha / rank", "alpha // rank")),
    "alpha-zero-taken-as-unset": source(init=INIT.replace("alpha / rank", "(alpha / rank if alpha else 1.0)")),
    "init-swapped-A-zero-B-random": source(init=INIT.replace(
        "nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))", "nn.init.zeros_(self.lora_A)").replace(
        "self.lora_B = nn.Parameter(torch.zeros(out_f, rank, dtype=dt))",
        "self.lora_B = nn.Parameter(torch.randn(out_f, rank, dtype=dt) * 0.01)")),
    "both-random": source(init=INIT.replace(
        "self.lora_B = nn.Parameter(torch.zeros(out_f, rank, dtype=dt))",
        "self.lora_B = nn.Parameter(torch.randn(out_f, rank, dtype=dt) * 0.01)")),
    "A-standard-normal": source(init=INIT.replace(
        "nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))", "nn.init.normal_(self.lora_A)")),
    "base-not-frozen": source(init=INIT.replace("p.requires_grad_(False)", "pass")),
    "merge-forgets-flag": source(merge=MERGE.replace("        self.merged = True\n", "")),
    "merge-without-scaling": source(merge=MERGE.replace("self.scaling * (self.lora_B @ self.lora_A)",
                                                        "self.lora_B @ self.lora_A")),
    "merge-twice-adds-twice": source(forward="""
    def forward(self, x):
        y = self.base(x)
        if not self.merged:
            y = y + (x @ self.lora_A.T) @ self.lora_B.T * self.scaling
        return y
""", merge="""
    def merge(self):
        with torch.no_grad():
            self.base.weight += self.scaling * (self.lora_B @ self.lora_A)
        self.merged = True
"""),
    "lora-dropout-left-on": source(init=INIT + "        self.drop = nn.Dropout(0.1)\n", forward="""
    def forward(self, x):
        y = self.base(x)
        if not self.merged:
            y = y + (self.drop(x) @ self.lora_A.T) @ self.lora_B.T * self.scaling
        return y
"""),
}


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass_within_half_tolerance(grade_source, name):
    assert_within_half_tolerance(grade_source(PROBLEM, CORRECT[name]))


@pytest.mark.parametrize("name", BUGS)
def test_bugs_fail(grade_source, name):
    verdict = grade_source(PROBLEM, BUGS[name])
    # rank / alpha divides by zero on the alpha = 0 cases: an error there, wrong values elsewhere
    assert verdict.status == ("error" if name == "scaling-rank-over-alpha" else "failed"), describe(verdict)
    assert_rejected(verdict)


def test_transposed_layout_is_reported(grade_source):
    """The seeds' layout, A (in, rank) and B (rank, out), is a wrong return with a clear message."""
    src = source(init=INIT.replace("torch.empty(rank, in_f, dtype=dt)", "torch.empty(in_f, rank, dtype=dt)")
                 .replace("torch.zeros(out_f, rank, dtype=dt)", "torch.zeros(rank, out_f, dtype=dt)"),
                 forward=FORWARD.replace("(x @ self.lora_A.T) @ self.lora_B.T", "x @ self.lora_A @ self.lora_B"),
                 merge=MERGE.replace("self.lora_B @ self.lora_A", "(self.lora_A @ self.lora_B).T"))
    verdict = grade_source(PROBLEM, src)
    assert verdict.status == "wrong_return", describe(verdict)
    assert "(rank, in_features)" in verdict.first_failure().message, describe(verdict)


def test_float32_adapter_on_float64_base_fails(grade_source):
    verdict = grade_source(PROBLEM, source(init=INIT.replace("dt = base.weight.dtype", "dt = torch.float32")))
    assert not verdict.ok and verdict.passed < verdict.total, describe(verdict)


class _LowRank(nn.Module):
    """W -> W + scaling * B @ A as a parametrization (the torch.nn.utils.parametrize LoRA recipe)."""

    def __init__(self, A, B, scaling):
        super().__init__()
        self.A, self.B, self.scaling = nn.Parameter(A.clone()), nn.Parameter(B.clone()), scaling

    def forward(self, W):
        return W + self.scaling * self.B @ self.A


def test_reference_matches_parametrize_on_every_case():
    cases = stored_cases(PROBLEM)
    assert len(cases) >= 20
    for case in cases:
        _, named, _ = build_inputs(case)
        W, b, A, B, x, up = (named.get(k) for k in ("_W", "_b", "_A", "_B", "x", "_upstream"))
        rank, alpha = case.init["rank"], case.init["alpha"]
        out_f, in_f = W.shape
        # float32: two formulations (low-rank path vs merged weight) round differently; the spec's tolerance
        tol = dict(atol=1e-5, rtol=1e-4) if W.dtype == torch.float32 else {}

        def linear():
            lin = nn.Linear(in_f, out_f, bias=b is not None, dtype=W.dtype)
            with torch.no_grad():
                lin.weight.copy_(W)
                if b is not None:
                    lin.bias.copy_(b)
            return lin

        ref_base, lib = linear(), linear()
        ref = LoRALinear(ref_base, rank, alpha)
        assert sum(p.numel() for p in ref.parameters() if p.requires_grad) == rank * (in_f + out_f), case.name
        assert ref.lora_A.dtype == ref.lora_B.dtype == W.dtype and not ref.lora_B.any(), case.name
        torch.testing.assert_close(ref(x), lib(x), msg=case.name)                      # B = 0: output unchanged
        with torch.no_grad():
            ref.lora_A.copy_(A)
            ref.lora_B.copy_(B)
        lib.weight.requires_grad_(False)
        P.register_parametrization(lib, "weight", _LowRank(A, B, alpha / rank))
        y_ref, y_lib = ref(x), lib(x)
        torch.testing.assert_close(y_ref, y_lib, msg=case.name, **tol)
        y_ref.backward(up)
        y_lib.backward(up)
        low_rank = lib.parametrizations.weight[0]
        torch.testing.assert_close(ref.lora_A.grad, low_rank.A.grad, msg=case.name, **tol)
        torch.testing.assert_close(ref.lora_B.grad, low_rank.B.grad, msg=case.name, **tol)
        ref.merge()
        P.remove_parametrizations(lib, "weight", leave_parametrized=True)              # bake W + s B A in
        torch.testing.assert_close(ref_base.weight, lib.weight, msg=case.name, **tol)
        torch.testing.assert_close(ref(x), lib(x), msg=case.name, **tol)
        ref.merge()
        torch.testing.assert_close(ref(x), lib(x), msg=case.name, **tol)
        # the stored values agree with the library within the spec's tolerance
        torch.testing.assert_close(torch.from_numpy(case.outputs["y"]), y_lib.detach(), msg=case.name, **tol)
        torch.testing.assert_close(torch.from_numpy(case.outputs["W_merged"]), lib.weight.detach(), msg=case.name, **tol)


def test_stored_init_is_valid():
    for case in stored_cases(PROBLEM):
        A = case.outputs["A_init"]
        assert abs(A).max() <= 1 / math.sqrt(A.shape[1]) and not case.outputs["B_init"].any(), case.name
