"""linear-attention: the reference agrees with the quadratic formula computed with torch,
stays within the memory bound, correct variants pass, realistic bugs fail."""

from __future__ import annotations

import importlib

import pytest
import torch
import torch.nn.functional as F

from drillcli.harness import build_inputs
from tests.support import assert_rejected, assert_within_half_tolerance, describe, reference, stored_cases

PROBLEM = "linear-attention"
grader = importlib.import_module("drillcli.graders.linear_attention")


def cumsum_form(phi="F.elu(x) + 1", axis="-3", zaxis="-2", den="(q * z).sum(-1, keepdim=True) + eps", pre=""):
    """The prefix-sum formulation with pieces swapped out (the defaults are correct)."""
    return f"""
import math, torch
import torch.nn.functional as F
def linear_attention(q, k, v, causal=False, eps=1e-6):
    {pre}
    phi = lambda x: {phi}
    q, k = phi(q), phi(k)
    if causal:
        kv = torch.cumsum(k.unsqueeze(-1) * v.unsqueeze(-2), dim={axis})
        z = torch.cumsum(k, dim={zaxis})
        num = (q.unsqueeze(-2) @ kv).squeeze(-2)
    else:
        kv = k.transpose(-2, -1) @ v
        z = k.sum(-2, keepdim=True)
        num = q @ kv
    return num / ({den})
"""


CORRECT = {
    "default-form": cumsum_form(),
    "recurrent-loop-einsum": """
import torch
def linear_attention(q, k, v, causal=False, eps=1e-6):
    fq = torch.where(q > 0, q + 1, torch.exp(q))      # elu(x) + 1 written out
    fk = torch.where(k > 0, k + 1, torch.exp(k))
    if not causal:
        S = torch.einsum("...jd,...je->...de", fk, v)
        z = fk.sum(-2)
        return torch.einsum("...id,...de->...ie", fq, S) / (torch.einsum("...id,...d->...i", fq, z)[..., None] + eps)
    S = torch.zeros(*q.shape[:-2], q.shape[-1], v.shape[-1], dtype=q.dtype)
    z = torch.zeros(*q.shape[:-2], q.shape[-1], dtype=q.dtype)
    outs = []
    for i in range(q.shape[-2]):
        S = S + fk[..., i, :, None] * v[..., i, None, :]
        z = z + fk[..., i, :]
        num = torch.einsum("...d,...de->...e", fq[..., i, :], S)
        outs.append(num / ((fq[..., i, :] * z).sum(-1, keepdim=True) + eps))
    return torch.stack(outs, dim=-2)
""",
    "chunked-causal": """
import torch
import torch.nn.functional as F
def linear_attention(q, k, v, causal=False, eps=1e-6, chunk=16):
    q, k = F.elu(q) + 1, F.elu(k) + 1
    if not causal:
        return (q @ (k.mT @ v)) / (q @ k.sum(-2).unsqueeze(-1) + eps)
    L = q.shape[-2]
    S = q.new_zeros(*q.shape[:-2], q.shape[-1], v.shape[-1])
    z = q.new_zeros(*q.shape[:-2], 1, q.shape[-1])
    outs = []
    for s in range(0, L, chunk):
        qc, kc, vc = q[..., s:s + chunk, :], k[..., s:s + chunk, :], v[..., s:s + chunk, :]
        a = (qc @ kc.mT).tril()                            # (C, C) inside the chunk only
        num = qc @ S + a @ vc
        den = (qc * z).sum(-1, keepdim=True) + a.sum(-1, keepdim=True)
        outs.append(num / (den + eps))
        S = S + kc.mT @ vc
        z = z + kc.sum(-2, keepdim=True)
    return torch.cat(outs, dim=-2)
""",
    "float64-internals": cumsum_form(
        pre="dt = q.dtype; q, k, v = q.double(), k.double(), v.double()").replace(
        "return num / (", "return (num / (").replace("+ eps)\n", "+ eps)).to(dt)\n"),
}

BUGS = {
    "elu-without-plus-one": cumsum_form(phi="F.elu(x)"),
    "relu-feature-map": cumsum_form(phi="F.relu(x)"),
    "softmax-scale-before-feature-map": cumsum_form(phi="F.elu(x / math.sqrt(x.shape[-1])) + 1"),
    "cumsum-over-features": cumsum_form(zaxis="-1"),
    "exclusive-prefix-sum": cumsum_form(axis="-3", zaxis="-2").replace(
        "num = (q.unsqueeze(-2) @ kv).squeeze(-2)",
        "kv = kv - k.unsqueeze(-1) * v.unsqueeze(-2)\n        z = z - k\n        num = (q.unsqueeze(-2) @ kv).squeeze(-2)"),
    "normaliser-without-query": cumsum_form(den="z.sum(-1, keepdim=True) + eps"),
    "eps-as-clamp": cumsum_form(den="(q * z).sum(-1, keepdim=True).clamp_min(eps)"),
    "eps-missing": cumsum_form(den="(q * z).sum(-1, keepdim=True)"),
    "eps-zero-means-default": cumsum_form(pre="eps = eps or 1e-6"),
    "causal-flag-ignored": cumsum_form().replace("if causal:", "if False:"),
    "quadratic-causal-mask": """
import torch
import torch.nn.functional as F
def linear_attention(q, k, v, causal=False, eps=1e-6):
    a = (F.elu(q) + 1) @ (F.elu(k) + 1).transpose(-2, -1)          # (Lq, Lk): the quadratic form
    if causal:
        a = a * torch.ones(a.shape[-2:], dtype=a.dtype).tril()
    return (a @ v) / (a.sum(-1, keepdim=True) + eps)
""",
}


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass_within_half_tolerance(grade_source, name):
    verdict = grade_source(PROBLEM, CORRECT[name])
    assert_within_half_tolerance(verdict)


@pytest.mark.parametrize("name", BUGS)
def test_bugs_fail(grade_source, name):
    verdict = grade_source(PROBLEM, BUGS[name])
    assert verdict.status == "failed", describe(verdict)
    assert_rejected(verdict)


def test_quadratic_form_fails_only_the_memory_check(grade_source):
    verdict = grade_source(PROBLEM, BUGS["quadratic-causal-mask"])
    failed = [c for c in verdict.cases if not c.passed]
    assert failed and all(c.name.startswith("memory-") and c.message.startswith("memory:") for c in failed), describe(verdict)


def _quadratic(q, k, v, causal, eps):
    """The definition, written as attention with the kernel elu(q)+1 . elu(k)+1."""
    a = (F.elu(q) + 1) @ (F.elu(k) + 1).transpose(-2, -1)
    if causal:
        a = a * torch.ones(a.shape[-2:], dtype=a.dtype).tril()
    return (a @ v) / (a.sum(-1, keepdim=True) + eps)


def test_reference_matches_quadratic_form_and_memory_bound_on_every_case():
    for case in stored_cases(PROBLEM):
        args, named, _ = build_inputs(case)
        q, k, v, causal, *eps = args
        eps = eps[0] if eps else 1e-6
        out = reference(PROBLEM)(*args)
        qd, kd, vd = (t.detach().double() for t in (q, k, v))
        expected = _quadratic(qd, kd, vd, causal, eps)
        torch.testing.assert_close(out.double(), expected, msg=case.name,
                                   **({} if q.dtype == torch.float64 else {"atol": 1e-5, "rtol": 1e-4}))
        torch.testing.assert_close(torch.from_numpy(case.outputs["out"]).double(), expected, msg=case.name,
                                   **({} if q.dtype == torch.float64 else {"atol": 1e-5, "rtol": 1e-4}))
        if case.grad:
            # gradients of the quadratic form, through autograd
            ins = [t.detach().double().requires_grad_() for t in (q, k, v)]
            _quadratic(*ins, causal, eps).backward(named["_upstream"].double())
            for name, t in zip("qkv", ins):
                torch.testing.assert_close(torch.from_numpy(case.outputs[f"grad_{name}"]).double(), t.grad,
                                           msg=f"{case.name} grad_{name}",
                                           **({} if q.dtype == torch.float64 else {"atol": 1e-5, "rtol": 1e-4}))
        if case.inputs.get("_memory_check"):
            limit = grader.memory_limit(case)
            assert int(case.outputs["peak_elems"]) <= limit < q.numel() // q.shape[-1] * k.shape[-2], case.name
