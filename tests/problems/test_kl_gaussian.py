"""kl-gaussian: the reference equals torch.distributions.kl_divergence on every case (values and
gradients), correct variants pass, realistic bugs fail."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.distributions import Independent, Normal, kl_divergence

from drillcli.harness import build_inputs
from tests.support import (assert_near_miss, assert_rejected, assert_within_half_tolerance, describe, mutate,
                           reference, stored_cases)

PROBLEM = "kl-gaussian"

CORRECT = {
    "log-ratio-form": """
        import torch
        def kl_diag_gaussians(mu_q, logvar_q, mu_p=None, logvar_p=None):
            if mu_p is None:
                return 0.5 * (logvar_q.exp() + mu_q ** 2 - 1 - logvar_q).sum(-1)
            d = logvar_q - logvar_p
            return 0.5 * (d.exp() + ((mu_q - mu_p) / (0.5 * logvar_p).exp()).pow(2) - 1 - d).sum(dim=-1)
    """,
    "std-based-float64": """
        import torch
        def kl_diag_gaussians(mu_q, logvar_q, mu_p=None, logvar_p=None):
            dt = mu_q.dtype
            mq, lq = mu_q.double(), logvar_q.double()
            mp = torch.zeros_like(mq) if mu_p is None else mu_p.double()
            lp = torch.zeros_like(lq) if logvar_p is None else logvar_p.double()
            sq, sp = torch.exp(0.5 * lq), torch.exp(0.5 * lp)
            kl = torch.log(sp / sq) + ((sq / sp) ** 2 + ((mq - mp) / sp) ** 2) / 2 - 0.5   # univariate closed form
            return kl.sum(-1).to(dt)
    """,
    "cross-entropy-minus-entropy": """
        import math, torch
        def kl_diag_gaussians(mu_q, logvar_q, mu_p=None, logvar_p=None):
            if mu_p is None:
                mu_p, logvar_p = torch.zeros_like(mu_q), torch.zeros_like(logvar_q)
            c = math.log(2 * math.pi)
            cross = 0.5 * (c + logvar_p + torch.exp(logvar_q - logvar_p) + ((mu_q - mu_p) * torch.exp(-0.5 * logvar_p)) ** 2)  # H(q, p)
            entropy = 0.5 * (c + logvar_q + 1)                                                                         # H(q)
            return (cross - entropy).sum(dim=-1)
    """,
    "loop-over-dims": """
        import torch
        def kl_diag_gaussians(mu_q, logvar_q, mu_p=None, logvar_p=None):
            if mu_p is None:
                mu_p = torch.zeros(mu_q.shape[-1], dtype=mu_q.dtype)
                logvar_p = torch.zeros(mu_q.shape[-1], dtype=mu_q.dtype)
            mu_p, logvar_p = torch.broadcast_to(mu_p, mu_q.shape), torch.broadcast_to(logvar_p, mu_q.shape)
            total = torch.zeros(mu_q.shape[:-1], dtype=mu_q.dtype)
            for j in range(mu_q.shape[-1]):
                lq, lp = logvar_q[..., j], logvar_p[..., j]
                total = total + 0.5 * (torch.exp(lq - lp) + ((mu_q[..., j] - mu_p[..., j]) * torch.exp(-lp / 2)) ** 2 - 1 + lp - lq)
            return total
    """,
}

_BASE = """
    import torch
    def kl_diag_gaussians(mu_q, logvar_q, mu_p=None, logvar_p=None):
        if mu_p is None:
            mu_p, logvar_p = torch.zeros_like(mu_q), torch.zeros_like(logvar_q)
        var_ratio = torch.exp(logvar_q - logvar_p)
        dist = ((mu_q - mu_p) * torch.exp(-0.5 * logvar_p)) ** 2
        kl = 0.5 * (var_ratio + dist - 1 - (logvar_q - logvar_p))
        return kl.sum(dim=-1)
"""


def _bug(old: str, new: str) -> str:
    return mutate(_BASE, (old, new))


BUGS = {
    "reversed-direction": _bug(
        "var_ratio = torch.exp(logvar_q - logvar_p)\n        dist = ((mu_q - mu_p) * torch.exp(-0.5 * logvar_p)) ** 2\n"
        "        kl = 0.5 * (var_ratio + dist - 1 - (logvar_q - logvar_p))",
        "var_ratio = torch.exp(logvar_p - logvar_q)\n        dist = ((mu_q - mu_p) * torch.exp(-0.5 * logvar_q)) ** 2\n"
        "        kl = 0.5 * (var_ratio + dist - 1 - (logvar_p - logvar_q))"),
    "logvar-treated-as-log-std": _bug(
        "var_ratio = torch.exp(logvar_q - logvar_p)\n        dist = ((mu_q - mu_p) * torch.exp(-0.5 * logvar_p)) ** 2\n"
        "        kl = 0.5 * (var_ratio + dist - 1 - (logvar_q - logvar_p))",
        "var_ratio = torch.exp(2 * (logvar_q - logvar_p))\n        dist = ((mu_q - mu_p) * torch.exp(-logvar_p)) ** 2\n"
        "        kl = 0.5 * (var_ratio + dist - 1) - (logvar_q - logvar_p)"),
    "distance-over-var-q": _bug("torch.exp(-0.5 * logvar_p)) ** 2", "torch.exp(-0.5 * logvar_q)) ** 2"),
    "distance-divides-by-var-p": _bug("dist = ((mu_q - mu_p) * torch.exp(-0.5 * logvar_p)) ** 2",
                                      "dist = (mu_q - mu_p) ** 2 / torch.exp(logvar_p)"),
    "distance-times-inverse-var-p": _bug("dist = ((mu_q - mu_p) * torch.exp(-0.5 * logvar_p)) ** 2",
                                         "dist = (mu_q - mu_p) ** 2 * torch.exp(-logvar_p)"),
    "ratio-of-exps": _bug("var_ratio = torch.exp(logvar_q - logvar_p)", "var_ratio = torch.exp(logvar_q) / torch.exp(logvar_p)"),
    "missing-minus-one": _bug("kl = 0.5 * (var_ratio + dist - 1 - (logvar_q - logvar_p))",
                              "kl = 0.5 * (var_ratio + dist - (logvar_q - logvar_p))"),
    "missing-half": _bug("kl = 0.5 * (var_ratio", "kl = (var_ratio"),
    "mean-over-dims": _bug("return kl.sum(dim=-1)", "return kl.mean(dim=-1)"),
    "std-ratio-not-variance": _bug("var_ratio = torch.exp(logvar_q - logvar_p)", "var_ratio = torch.exp(0.5 * (logvar_q - logvar_p))"),
    "log-of-exp-roundtrip": _bug("- (logvar_q - logvar_p))", "- torch.log(torch.exp(logvar_q) / torch.exp(logvar_p)))"),
    "prior-ignored": _bug("if mu_p is None:\n", "if True:\n"),
}


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass_within_half_tolerance(grade_source, name):
    assert_within_half_tolerance(grade_source(PROBLEM, CORRECT[name]))


@pytest.mark.parametrize("name", BUGS)
def test_bugs_fail(grade_source, name):
    verdict = grade_source(PROBLEM, BUGS[name])
    assert verdict.status == "failed", describe(verdict)
    assert_rejected(verdict)


def test_reference_matches_torch_distributions_on_every_case():
    """torch.distributions works from std = exp(logvar / 2), which underflows for the extreme
    float32 case; the comparison runs in float64 (the reference too) so both see the same numbers,
    and the float64 result is compared with the stored (float32-rounded where float32) values."""
    for case in stored_cases(PROBLEM):
        args, _, _ = build_inputs(case)
        args = [None if a is None else a.detach().double().requires_grad_(a.requires_grad) for a in args]
        mq, lq, mp, lp = args
        ours = reference(PROBLEM)(*args)
        m2, l2 = mq.detach().clone().requires_grad_(mq.requires_grad), lq.detach().clone().requires_grad_(lq.requires_grad)
        if mp is None:
            p2m, p2l = torch.zeros_like(m2), torch.zeros_like(l2)
        else:
            p2m, p2l = mp.detach().clone().requires_grad_(mp.requires_grad), lp.detach().clone().requires_grad_(lp.requires_grad)
        q = Independent(Normal(m2, torch.exp(0.5 * l2)), 1)
        p = Independent(Normal(torch.broadcast_to(p2m, m2.shape), torch.broadcast_to(torch.exp(0.5 * p2l), m2.shape)), 1)
        theirs = kl_divergence(q, p)
        torch.testing.assert_close(ours, theirs, rtol=1e-9, atol=1e-9, msg=case.name)
        np.testing.assert_allclose(ours.detach().numpy(), case.outputs["kl"], rtol=1e-5, atol=1e-6, err_msg=case.name)
        if case.grad:
            up = torch.from_numpy(np.asarray(case.inputs["_upstream"])).double()
            ours.backward(up)
            theirs.backward(up)
            for mine, lib in ((mq, m2), (lq, l2), (mp, p2m), (lp, p2l)):
                if mine is not None and mine.requires_grad:
                    torch.testing.assert_close(mine.grad, lib.grad, msg=case.name)


NEAR_MISSES = {
    "reversed-direction": BUGS["reversed-direction"],
}


@pytest.mark.parametrize("variant", NEAR_MISSES)
def test_near_misses_are_named(grade_source, variant):
    assert_near_miss(grade_source(PROBLEM, NEAR_MISSES[variant]), PROBLEM, variant)
