"""dpo-loss: the reference agrees with an independent float64 implementation of the paper's
formula (values, implicit rewards and analytic gradients) on every stored case; correct
variants pass with a margin, realistic bugs fail.

trl is too heavy to install here, so it is not run. The conventions below were matched by
reading trl's `DPOTrainer.dpo_loss` (trl/trainer/dpo_trainer.py, loss_type="sigmoid", the
default) and are the ones the problem states:
- logits = beta * ((policy_chosen - policy_rejected) - (reference_chosen - reference_rejected)),
  with beta applied to the difference of log-ratios (trl: `logits = pi_logratios - ref_logratios`,
  then `F.logsigmoid(self.beta * logits)`);
- label smoothing is the cDPO mix -(1 - ls) * logsigmoid(logits) - ls * logsigmoid(-logits), no
  rescaling (trl's loss_type="robust" is the other form, a named near miss here);
- the per-pair losses are averaged over the batch (trl returns them per pair and takes `.mean()`
  in get_batch_loss_metrics);
- chosen_rewards = beta * (policy_chosen - reference_chosen).detach(), and likewise rejected.
trl's reference_free=True, loss types other than "sigmoid", and its f-divergence options are
not part of the problem.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from drillcli.harness import build_inputs
from tests.support import (assert_near_miss, assert_rejected, assert_within_half_tolerance, describe, mutate,
                           reference, stored_cases)

PROBLEM = "dpo-loss"

_BASE = """
    import torch
    import torch.nn.functional as F
    def dpo_loss(policy_chosen_logps, policy_rejected_logps, reference_chosen_logps, reference_rejected_logps,
                 beta=0.1, label_smoothing=0.0):
        pi_logratios = policy_chosen_logps - policy_rejected_logps
        ref_logratios = reference_chosen_logps - reference_rejected_logps
        logits = beta * (pi_logratios - ref_logratios)
        losses = -(1 - label_smoothing) * F.logsigmoid(logits) - label_smoothing * F.logsigmoid(-logits)
        chosen_rewards = beta * (policy_chosen_logps - reference_chosen_logps).detach()
        rejected_rewards = beta * (policy_rejected_logps - reference_rejected_logps).detach()
        return losses.mean(), chosen_rewards, rejected_rewards
"""

CORRECT = {
    "per-response-logratios-softplus": """
        import torch
        import torch.nn.functional as F
        def dpo_loss(pc, pr, rc, rr, beta=0.1, label_smoothing=0.0):
            chosen = pc - rc                     # log pi / pi_ref of the chosen response
            rejected = pr - rr
            x = beta * (chosen - rejected)
            losses = (1 - label_smoothing) * F.softplus(-x) + label_smoothing * F.softplus(x)
            return losses.mean(), beta * chosen.detach(), beta * rejected.detach()
    """,
    "hand-written-stable-logsigmoid": """
        import torch
        def _logsigmoid(x):
            return torch.minimum(x, torch.zeros_like(x)) - torch.log1p(torch.exp(-x.abs()))
        def dpo_loss(policy_chosen_logps, policy_rejected_logps, reference_chosen_logps, reference_rejected_logps,
                     beta=0.1, label_smoothing=0.0):
            margin = (policy_chosen_logps - policy_rejected_logps) - (reference_chosen_logps - reference_rejected_logps)
            x = beta * margin
            loss = -((1 - label_smoothing) * _logsigmoid(x) + label_smoothing * _logsigmoid(-x)).sum() / x.shape[0]
            with torch.no_grad():
                cr = beta * (policy_chosen_logps - reference_chosen_logps)
                rj = beta * (policy_rejected_logps - reference_rejected_logps)
            return loss, cr, rj
    """,
    "float64-logaddexp": """
        import torch
        def dpo_loss(pc, pr, rc, rr, beta=0.1, label_smoothing=0.0):
            dt = pc.dtype
            pc64, pr64, rc64, rr64 = pc.double(), pr.double(), rc.double(), rr.double()
            x = beta * ((pc64 - pr64) - (rc64 - rr64))
            zero = torch.zeros_like(x)
            losses = (1 - label_smoothing) * torch.logaddexp(zero, -x) + label_smoothing * torch.logaddexp(zero, x)
            cr = (beta * (pc64 - rc64)).to(dt).detach()
            rj = (beta * (pr64 - rr64)).to(dt).detach()
            return losses.mean().to(dt), cr, rj
    """,
    "loop-over-pairs": """
        import torch
        import torch.nn.functional as F
        def dpo_loss(pc, pr, rc, rr, beta=0.1, label_smoothing=0.0):
            total = 0.0
            for i in range(pc.shape[0]):
                h = beta * (pc[i] - rc[i]) - beta * (pr[i] - rr[i])
                total = total - (1 - label_smoothing) * F.logsigmoid(h) - label_smoothing * F.logsigmoid(-h)
            loss = total / pc.shape[0]
            return loss, (beta * (pc - rc)).detach(), (beta * (pr - rr)).detach()
    """,
    "trl-sigmoid-form": _BASE,
}


def _bug(*pairs: tuple[str, str]) -> str:
    return mutate(_BASE, *pairs)


BUGS = {
    "log-of-sigmoid": _bug(("-(1 - label_smoothing) * F.logsigmoid(logits) - label_smoothing * F.logsigmoid(-logits)",
                            "-(1 - label_smoothing) * torch.log(torch.sigmoid(logits))"
                            " - label_smoothing * torch.log(torch.sigmoid(-logits))")),
    "naive-softplus": _bug(("-(1 - label_smoothing) * F.logsigmoid(logits) - label_smoothing * F.logsigmoid(-logits)",
                            "(1 - label_smoothing) * torch.log(1 + torch.exp(-logits))"
                            " + label_smoothing * torch.log(1 + torch.exp(logits))")),
    "reference-logratio-reversed": _bug(("ref_logratios = reference_chosen_logps - reference_rejected_logps",
                                         "ref_logratios = reference_rejected_logps - reference_chosen_logps")),
    "reference-free": _bug(("logits = beta * (pi_logratios - ref_logratios)", "logits = beta * pi_logratios")),
    "beta-outside-logsigmoid": _bug(("logits = beta * (pi_logratios - ref_logratios)",
                                     "logits = pi_logratios - ref_logratios"),
                                    ("return losses.mean()", "return beta * losses.mean()")),
    "smoothing-term-plus-sign": _bug(("- label_smoothing * F.logsigmoid(-logits)",
                                      "+ label_smoothing * F.logsigmoid(-logits)")),
    "robust-dpo": _bug(("- label_smoothing * F.logsigmoid(-logits)",
                        "+ label_smoothing * F.logsigmoid(-logits)"),
                       ("return losses.mean()", "return (losses / (1 - 2 * label_smoothing)).mean()")),
    "smoothing-weights-swapped": _bug(("-(1 - label_smoothing) * F.logsigmoid(logits) - label_smoothing * F.logsigmoid(-logits)",
                                       "-label_smoothing * F.logsigmoid(logits) - (1 - label_smoothing) * F.logsigmoid(-logits)")),
    "sum-over-batch": _bug(("return losses.mean()", "return losses.sum()")),
    "rewards-without-beta": _bug(("chosen_rewards = beta * (", "chosen_rewards = ("),
                                 ("rejected_rewards = beta * (", "rejected_rewards = (")),
    "rewards-are-policy-logratio": _bug(("(policy_chosen_logps - reference_chosen_logps).detach()",
                                         "(policy_chosen_logps - policy_rejected_logps).detach()"),
                                        ("(policy_rejected_logps - reference_rejected_logps).detach()",
                                         "(reference_chosen_logps - reference_rejected_logps).detach()")),
    "beta-zero-treated-as-unset": _bug(("logits = beta * (", "beta = beta or 0.1\n        logits = beta * (")),
}


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass_within_half_tolerance(grade_source, name):
    assert_within_half_tolerance(grade_source(PROBLEM, CORRECT[name]))


@pytest.mark.parametrize("name", BUGS)
def test_bugs_fail(grade_source, name):
    verdict = grade_source(PROBLEM, BUGS[name])
    assert verdict.status == "failed", describe(verdict)
    assert_rejected(verdict)


def test_rewards_left_attached_are_reported(grade_source):
    verdict = grade_source(PROBLEM, _bug(("(policy_chosen_logps - reference_chosen_logps).detach()",
                                          "(policy_chosen_logps - reference_chosen_logps)")))
    assert verdict.status == "wrong_return", describe(verdict)
    assert "chosen_rewards is still attached" in describe(verdict)


def _paper_dpo(pc, pr, rc, rr, beta, ls):
    """Independent float64 DPO from the paper (Rafailov et al. 2023, eq. 7) with the cDPO label
    noise (Mitchell 2023): h = beta log(pi(y_w)/pi_ref(y_w)) - beta log(pi(y_l)/pi_ref(y_l)),
    L = mean((1 - ls) * log(1 + e^-h) + ls * log(1 + e^h)), written with log1p of exp(-|h|);
    the gradients are dL/dpc = beta/B * (ls * sigmoid(h) - (1 - ls) * sigmoid(-h)) = -dL/dpr."""
    h = beta * (pc - rc) - beta * (pr - rr)
    softplus = lambda z: np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))  # noqa: E731
    sigmoid = lambda z: 0.5 * (1.0 + np.tanh(0.5 * z))  # noqa: E731
    loss = np.mean((1 - ls) * softplus(-h) + ls * softplus(h))
    grad_pc = beta / len(h) * (ls * sigmoid(h) - (1 - ls) * sigmoid(-h))
    return loss, beta * (pc - rc), beta * (pr - rr), grad_pc, -grad_pc


def test_reference_matches_the_paper_formula_on_every_case():
    for case in stored_cases(PROBLEM):
        args, _, _ = build_inputs(case)
        tensors = [a.detach().double().requires_grad_(i < 2) for i, a in enumerate(args[:4])]
        beta = args[4] if len(args) > 4 else 0.1
        ls = args[5] if len(args) > 5 else 0.0
        loss, cr, rj = reference(PROBLEM)(*tensors, beta, ls)
        upstream = float(case.inputs["_upstream"])
        loss.backward(torch.tensor(upstream, dtype=torch.float64))
        e_loss, e_cr, e_rj, g_pc, g_pr = _paper_dpo(*(t.detach().numpy() for t in tensors), beta, ls)
        np.testing.assert_allclose(loss.item(), e_loss, rtol=1e-12, atol=1e-12, err_msg=case.name)
        np.testing.assert_allclose(cr.numpy(), e_cr, rtol=1e-12, atol=1e-12, err_msg=case.name)
        np.testing.assert_allclose(rj.numpy(), e_rj, rtol=1e-12, atol=1e-12, err_msg=case.name)
        np.testing.assert_allclose(tensors[0].grad.numpy(), upstream * g_pc, rtol=1e-10, atol=1e-14, err_msg=case.name)
        np.testing.assert_allclose(tensors[1].grad.numpy(), upstream * g_pr, rtol=1e-10, atol=1e-14, err_msg=case.name)
        assert not cr.requires_grad and not rj.requires_grad, case.name
        # the stored expected values are this float64 truth rounded once to the case's dtype
        np.testing.assert_allclose(case.outputs["loss"], e_loss, rtol=1e-6, err_msg=case.name)
        assert np.isfinite(e_loss), case.name


NEAR_MISSES = {
    "robust-dpo": BUGS["robust-dpo"],
    "reference-free": BUGS["reference-free"],
}


@pytest.mark.parametrize("variant", NEAR_MISSES)
def test_near_misses_are_named(grade_source, variant):
    assert_near_miss(grade_source(PROBLEM, NEAR_MISSES[variant]), PROBLEM, variant)


def test_enough_alternatives_and_bugs():
    assert len(CORRECT) >= 3 and len(BUGS) >= 5
