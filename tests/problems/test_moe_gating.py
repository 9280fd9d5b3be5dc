"""moe-gating: the reference agrees with torch.topk + F.softmax + F.one_hot and with the
Hugging Face Mixtral load-balancing formula (divided by k) on every stored case, the
numpy check agrees with the stored outputs; correct variants pass, realistic bugs fail."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from drillcli.graders import moe_gating as grader
from drillcli.harness import build_inputs
from drillcli.solutions.moe_gating import top_k_gating
from tests.support import assert_rejected, assert_within_half_tolerance, describe, stored_cases

PROBLEM = "moe-gating"

HEADER = "import math\nimport torch\nimport torch.nn.functional as F\n"

CORRECT = {
    "softmax-then-topk-renormalise": HEADER + """
def top_k_gating(logits, k):
    E = logits.shape[-1]
    probs = torch.softmax(logits, dim=-1)
    top_p, indices = probs.topk(k, dim=-1)
    weights = top_p / top_p.sum(-1, keepdim=True)
    mask = F.one_hot(indices, E).to(logits.dtype)             # (..., k, E)
    f = mask.reshape(-1, E).sum(0) / indices.numel()
    P = probs.reshape(-1, E).mean(0)
    return weights, indices, E * torch.dot(f, P)
""",
    "topk-of-probabilities-highest-id-wins-ties": HEADER + """
def top_k_gating(logits, k):
    E = logits.shape[-1]
    probs = torch.softmax(logits, dim=-1)
    order = torch.sort(probs.flip(-1), dim=-1, descending=True, stable=True).indices
    indices = E - 1 - order[..., :k]           # tied probabilities (0 after underflow, or -inf): highest id first
    top_p = probs.gather(-1, indices)
    weights = top_p / top_p.sum(-1, keepdim=True)
    f = torch.bincount(indices.reshape(-1), minlength=E).to(logits.dtype) / indices.numel()
    return weights, indices, E * (f * probs.reshape(-1, E).mean(0)).sum()
""",
    "sorted-ids-ascending-manual-softmax": HEADER + """
def top_k_gating(logits, k):
    E = logits.shape[-1]
    _, idx = torch.sort(logits, dim=-1, descending=True, stable=True)
    indices = idx[..., :k].sort(dim=-1).values                # experts in ascending id order: any order is fine
    sel = logits.gather(-1, indices)
    e = torch.exp(sel - sel.max(-1, keepdim=True).values)
    weights = e / e.sum(-1, keepdim=True)
    z = logits.reshape(-1, E)
    ez = torch.exp(z - z.max(-1, keepdim=True).values)
    P = (ez / ez.sum(-1, keepdim=True)).mean(0)
    counts = torch.zeros(E, dtype=logits.dtype).index_add_(0, indices.reshape(-1),
                                                          torch.ones(indices.numel(), dtype=logits.dtype))
    return weights, indices, E * (counts / (z.shape[0] * k) * P).sum()
""",
    "per-token-loop-float64": HEADER + """
def top_k_gating(logits, k):
    dt, E = logits.dtype, logits.shape[-1]
    z = logits.reshape(-1, E).double()
    N = z.shape[0]
    ws, ids, counts, psum = [], [], [0] * E, 0
    for t in range(N):
        vals, ix = torch.topk(z[t], k)
        ws.append(torch.softmax(vals, 0))
        ids.append(ix)
        for i in ix.tolist():
            counts[i] += 1
        psum = psum + torch.softmax(z[t], 0)
    f = torch.tensor(counts, dtype=torch.float64) / (N * k)
    aux = E * (f * psum / N).sum()
    shape = logits.shape[:-1] + (k,)
    return torch.stack(ws).reshape(shape).to(dt), torch.stack(ids).reshape(shape), aux.to(dt)
""",
    "log-softmax-exp": HEADER + """
def top_k_gating(logits, k):
    E = logits.shape[-1]
    top, indices = torch.topk(logits, k, dim=-1, sorted=False)
    weights = F.log_softmax(top, dim=-1).exp()
    P = F.log_softmax(logits, -1).exp().reshape(-1, E).mean(0)
    f = F.one_hot(indices.reshape(-1), E).sum(0).to(logits.dtype) / indices.numel()
    return weights, indices, (f * P).sum() * E
""",
}

GOOD_WEIGHTS = """
    E = logits.shape[-1]
    top, indices = logits.topk(k, dim=-1)
    weights = torch.softmax(top, dim=-1)
    probs = torch.softmax(logits, dim=-1).reshape(-1, E)
"""

BUGS = {
    "no-renormalisation": HEADER + """
def top_k_gating(logits, k):
    E = logits.shape[-1]
    probs = torch.softmax(logits, dim=-1)
    weights, indices = probs.topk(k, dim=-1)
    f = torch.bincount(indices.reshape(-1), minlength=E).to(logits.dtype) / indices.numel()
    return weights, indices, E * (f * probs.reshape(-1, E).mean(0)).sum()
""",
    "f-divided-by-N-not-Nk": HEADER + "def top_k_gating(logits, k):" + GOOD_WEIGHTS + """
    f = torch.bincount(indices.reshape(-1), minlength=E).to(logits.dtype) / probs.shape[0]
    return weights, indices, E * (f * probs.mean(0)).sum()
""",
    "P-from-topk-weights": HEADER + "def top_k_gating(logits, k):" + GOOD_WEIGHTS + """
    dense = torch.zeros_like(logits).scatter(-1, indices, weights).reshape(-1, E)
    f = torch.bincount(indices.reshape(-1), minlength=E).to(logits.dtype) / indices.numel()
    return weights, indices, E * (f * dense.mean(0)).sum()
""",
    "missing-E-factor": HEADER + "def top_k_gating(logits, k):" + GOOD_WEIGHTS + """
    f = torch.bincount(indices.reshape(-1), minlength=E).to(logits.dtype) / indices.numel()
    return weights, indices, (f * probs.mean(0)).sum()
""",
    "f-from-top-1-only": HEADER + "def top_k_gating(logits, k):" + GOOD_WEIGHTS + """
    f = torch.bincount(indices[..., 0].reshape(-1), minlength=E).to(logits.dtype) / probs.shape[0]
    return weights, indices, E * (f * probs.mean(0)).sum()
""",
    "ascending-sort-picks-smallest": HEADER + """
def top_k_gating(logits, k):
    E = logits.shape[-1]
    indices = logits.argsort(dim=-1)[..., :k]
    weights = torch.softmax(logits.gather(-1, indices), dim=-1)
    probs = torch.softmax(logits, dim=-1).reshape(-1, E)
    f = torch.bincount(indices.reshape(-1), minlength=E).to(logits.dtype) / indices.numel()
    return weights, indices, E * (f * probs.mean(0)).sum()
""",
    "naive-exp-softmax": HEADER + """
def top_k_gating(logits, k):
    E = logits.shape[-1]
    top, indices = logits.topk(k, dim=-1)
    weights = top.exp() / top.exp().sum(-1, keepdim=True)
    e = logits.exp().reshape(-1, E)
    probs = e / e.sum(-1, keepdim=True)
    f = torch.bincount(indices.reshape(-1), minlength=E).to(logits.dtype) / indices.numel()
    return weights, indices, E * (f * probs.mean(0)).sum()
""",
    "aux-loss-detached": HEADER + "def top_k_gating(logits, k):" + GOOD_WEIGHTS + """
    f = torch.bincount(indices.reshape(-1), minlength=E).to(logits.dtype) / indices.numel()
    return weights, indices, (E * (f * probs.mean(0)).sum()).detach()
""",
    "sum-over-tokens-not-mean": HEADER + "def top_k_gating(logits, k):" + GOOD_WEIGHTS + """
    f = torch.bincount(indices.reshape(-1), minlength=E).to(logits.dtype) / indices.numel()
    return weights, indices, E * (f * probs.sum(0)).sum()
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


def test_int32_indices_are_a_dtype_error(grade_source):
    src = CORRECT["log-softmax-exp"].replace("return weights, indices,", "return weights, indices.int(),")
    verdict = grade_source(PROBLEM, src)
    assert not verdict.ok and verdict.first_failure().kind == "dtype", describe(verdict)


def _library(logits, k):
    """torch.topk + F.softmax + F.one_hot, and HF Mixtral's load_balancing_loss_func / k."""
    E = logits.shape[-1]
    top, indices = torch.topk(logits, k, dim=-1)
    weights = F.softmax(top, dim=-1)
    routing = F.softmax(logits.reshape(-1, E), dim=-1)                        # (N, E)
    expert_mask = F.one_hot(indices.reshape(-1, k), E)                        # (N, k, E)
    tokens_per_expert = expert_mask.to(logits.dtype).mean(dim=0)             # (k, E), as in HF
    hf = (tokens_per_expert * routing.mean(dim=0).unsqueeze(0)).sum() * E    # HF Mixtral's value
    return weights, indices, hf / k


def test_reference_matches_library_on_every_case():
    cases = stored_cases(PROBLEM)
    assert len(cases) >= 20
    for case in cases:
        args, named, _ = build_inputs(case)
        logits, k = args
        weights, indices, aux = top_k_gating(logits, k)
        lw, li, laux = _library(logits, k)
        # reorder the library's experts like ours (both are sorted by logit; ties are resolved alike by topk)
        torch.testing.assert_close(indices, li, msg=case.name)
        torch.testing.assert_close(weights, lw, msg=case.name)
        torch.testing.assert_close(aux, laux, msg=case.name)
        # the stored fixture is what the reference produced
        np.testing.assert_array_equal(case.outputs["indices"], indices.numpy(), err_msg=case.name)


def test_numpy_check_accepts_the_stored_outputs_and_rejects_perturbed_ones():
    for case in stored_cases(PROBLEM):
        got = dict(case.outputs)
        assert grader.check(case, got) is None, case.name
        bad = dict(got, aux_loss=np.asarray(got["aux_loss"]) * 1.01 + 1e-3)
        assert grader.check(case, bad) is not None, case.name
        if got["indices"].shape[-1] > 1:                 # any order within a row is accepted
            flipped = dict(got, indices=got["indices"][..., ::-1].copy(), weights=got["weights"][..., ::-1].copy())
            flipped["grad_weights"] = _grad_weights(case, flipped)
            assert grader.check(case, flipped) is None, case.name


def _grad_weights(case, got):
    """Autograd gradient of sum(weights * upstream) for the given (reordered) routing."""
    logits = torch.from_numpy(np.asarray(case.inputs["logits"], dtype=np.float64)).requires_grad_(True)
    idx = torch.from_numpy(got["indices"])
    w = torch.softmax(logits.gather(-1, idx), dim=-1)
    g, = torch.autograd.grad(w, logits, torch.from_numpy(np.asarray(case.inputs["_upstream"], dtype=np.float64)))
    return g.numpy()
