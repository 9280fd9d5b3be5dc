"""grad-clip: the reference agrees with torch.nn.utils.clip_grad_norm_, correct variants pass, bugs fail."""

from __future__ import annotations

import pytest
import torch

from drillcli.graders.grad_clip import run
from drillcli.harness import to_user
from tests.support import (assert_near_miss, assert_rejected, assert_within_half_tolerance, describe,
                           mutate, reference, stored_cases)

PROBLEM = "grad-clip"

CORRECT = {
    "concatenate-then-norm": """
        import torch
        def clip_grad_norm(parameters, max_norm, norm_type=2.0):
            if isinstance(parameters, torch.Tensor):
                parameters = [parameters]
            grads = [p.grad for p in parameters if p.grad is not None]
            if not grads:
                return torch.tensor(0.0)
            v = torch.cat([g.reshape(-1) for g in grads])
            if norm_type == float("inf"):
                total = v.abs().max()
            else:
                total = v.abs().pow(norm_type).sum().pow(1.0 / norm_type)
            coef = max_norm / (total + 1e-6)
            if coef < 1:
                for g in grads:
                    g.mul_(coef)
            return total
    """,
    "norm-of-norms": """
        import torch
        def clip_grad_norm(parameters, max_norm, norm_type=2.0):
            params = [parameters] if isinstance(parameters, torch.Tensor) else [*parameters]
            with_grad = [p for p in params if p.grad is not None]
            if not with_grad:
                return torch.tensor(0.0)
            norms = torch.stack([p.grad.norm(norm_type) for p in with_grad])
            total = norms.norm(norm_type)
            coef = (max_norm / (total + 1e-6)).clamp(max=1.0)
            for p in with_grad:
                p.grad.mul_(coef)
            return total
    """,
    "einsum-squares-l2-path": """
        import torch
        def clip_grad_norm(parameters, max_norm, norm_type=2.0):
            params = [parameters] if isinstance(parameters, torch.Tensor) else list(parameters)
            grads = [p.grad for p in params if p.grad is not None]
            if not grads:
                return torch.tensor(0.0)
            if norm_type == 2:
                total = torch.sqrt(sum(torch.einsum("i,i->", g.reshape(-1), g.reshape(-1)) for g in grads))
            elif norm_type == float("inf"):
                total = torch.stack([g.abs().amax() for g in grads]).amax()
            else:
                total = torch.stack([(g.abs() ** norm_type).sum() for g in grads]).sum() ** (1 / norm_type)
            scale = torch.minimum(max_norm / (total + 1e-6), torch.ones_like(total))
            torch._foreach_mul_(grads, scale)
            return total
    """,
}

_HEAD = """
import torch
def clip_grad_norm(parameters, max_norm, norm_type=2.0):
    params = [parameters] if isinstance(parameters, torch.Tensor) else list(parameters)
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return torch.tensor(0.0)
"""

BUGS = {
    "upcasts-to-float64": """
        import math, torch
        def clip_grad_norm(parameters, max_norm, norm_type=2.0):
            params = [parameters] if torch.is_tensor(parameters) else list(parameters)
            grads = [p.grad for p in params if p.grad is not None]
            if len(grads) == 0:
                return torch.tensor(0.0)
            p = float(norm_type)
            if math.isinf(p):
                total = max(g.double().abs().max().item() if g.numel() else 0.0 for g in grads)
            else:
                total = sum(g.double().abs().pow(p).sum().item() for g in grads) ** (1 / p)
            coef = min(max_norm / (total + 1e-6), 1.0)
            for g in grads:
                g.mul_(coef)
            return torch.tensor(total, dtype=grads[0].dtype)
    """,
    # the caller's p.grad objects are left unclipped: a new tensor is bound instead
    "rebinds-p-grad": mutate(CORRECT["norm-of-norms"], ("p.grad.mul_(coef)", "p.grad = p.grad * coef")),
    "clip-each-parameter-separately": _HEAD + """
    norms = [torch.linalg.vector_norm(g, norm_type) for g in grads]
    for g, n in zip(grads, norms):
        g.mul_(torch.clamp(max_norm / (n + 1e-6), max=1.0))
    return torch.linalg.vector_norm(torch.stack(norms), norm_type)
""",
    "sum-of-norms": _HEAD + """
    total = sum(torch.linalg.vector_norm(g, norm_type) for g in grads)
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for g in grads:
        g.mul_(coef)
    return total
""",
    "scales-up-small-gradients": _HEAD + """
    total = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g, norm_type) for g in grads]), norm_type)
    for g in grads:
        g.mul_(max_norm / (total + 1e-6))
    return total
""",
    "generator-iterated-twice": """
import torch
def clip_grad_norm(parameters, max_norm, norm_type=2.0):
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    norms = [torch.linalg.vector_norm(p.grad, norm_type) for p in parameters if p.grad is not None]
    if not norms:
        return torch.tensor(0.0)
    total = torch.linalg.vector_norm(torch.stack(norms), norm_type)
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for p in parameters:
        if p.grad is not None:
            p.grad.mul_(coef)
    return total
""",
    "returns-norm-after-clipping": _HEAD + """
    total = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g, norm_type) for g in grads]), norm_type)
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for g in grads:
        g.mul_(coef)
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g, norm_type) for g in grads]), norm_type)
""",
    "inf-norm-without-abs": _HEAD + """
    if norm_type == float("inf"):
        total = torch.stack([g.max() for g in grads]).max()
    else:
        total = torch.stack([(g.abs() ** norm_type).sum() for g in grads]).sum() ** (1 / norm_type)
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for g in grads:
        g.mul_(coef)
    return total
""",
    "clips-parameters-not-gradients": _HEAD + """
    total = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g, norm_type) for g in grads]), norm_type)
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    with torch.no_grad():
        for p in params:
            if p.grad is not None:
                p.mul_(coef)
    return total
""",
    "strict-threshold-no-eps": _HEAD + """
    total = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g, norm_type) for g in grads]), norm_type)
    if total > max_norm:
        for g in grads:
            g.mul_(max_norm / total)
    return total
""",
    "always-l2": _HEAD + """
    total = torch.sqrt(sum((g ** 2).sum() for g in grads))
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for g in grads:
        g.mul_(coef)
    return total
""",
}


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass_within_half_tolerance(grade_source, name):
    assert_within_half_tolerance(grade_source(PROBLEM, CORRECT[name]))


@pytest.mark.parametrize("name", BUGS)
def test_bugs_fail(grade_source, name):
    verdict = grade_source(PROBLEM, BUGS[name])
    assert verdict.status == ("wrong_return" if name == "rebinds-p-grad" else "failed"), describe(verdict)
    assert_rejected(verdict)


def test_float_return_is_reported(grade_source):
    verdict = grade_source(PROBLEM, _HEAD.replace("return torch.tensor(0.0)", "return 0.0") + """
    total = float(sum((g.double() ** 2).sum() for g in grads) ** 0.5)
    for g in grads:
        g.mul_(min(max_norm / (total + 1e-6), 1.0))
    return total
""")
    assert verdict.status == "wrong_return" and "0-dim tensor" in verdict.first_failure().message


def test_reference_matches_torch_clip_grad_norm_on_every_case():
    for case in stored_cases(PROBLEM):
        ours = run(reference(PROBLEM), "function", case, ["total_norm", "grads", "params"])
        # the same parameters and gradients through torch.nn.utils.clip_grad_norm_
        params = []
        for i in range(sum(1 for k in case.inputs if k.startswith("p") and k[1:].isdigit())):
            p = to_user(case, f"p{i}").detach().requires_grad_(True)
            if f"g{i}" in case.inputs:
                p.grad = to_user(case, f"g{i}")
            params.append(p)
        lib_total = torch.nn.utils.clip_grad_norm_(params, case.inputs["max_norm"], case.inputs["norm_type"])
        lib_grads = [p.grad.reshape(-1) for p in params if p.grad is not None]
        torch.testing.assert_close(ours["total_norm"], lib_total, msg=case.name)
        torch.testing.assert_close(ours["grads"], torch.cat(lib_grads) if lib_grads else ours["grads"] * 0,
                                   msg=case.name)
        assert ours["total_norm"].dtype == lib_total.dtype, case.name


NEAR_MISSES = {
    "per-parameter": BUGS["clip-each-parameter-separately"],
}


@pytest.mark.parametrize("variant", NEAR_MISSES)
def test_near_misses_are_named(grade_source, variant):
    assert_near_miss(grade_source(PROBLEM, NEAR_MISSES[variant]), PROBLEM, variant)
