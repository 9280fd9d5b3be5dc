"""grpo-loss: the reference agrees with an independent float64 loop implementation of the
DeepSeekMath formulas (values, advantages and the analytic gradient w.r.t. logp) on every
stored case; correct variants pass with a margin, realistic bugs fail, and the other
aggregation / std conventions are named."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from drillcli.harness import build_inputs
from tests.support import (assert_near_miss, assert_rejected, assert_within_half_tolerance, describe, mutate,
                           reference, stored_cases)

PROBLEM = "grpo-loss"

_BASE = """
    import torch
    def grpo_loss(logp, old_logp, ref_logp, rewards, mask, beta=0.04, clip_eps=0.2, eps=1e-4):
        mean = rewards.mean(dim=-1, keepdim=True)
        std = rewards.std(dim=-1, keepdim=True)
        advantages = (rewards - mean) / (std + eps)
        A = advantages.unsqueeze(-1)
        ratio = torch.exp(logp - old_logp)
        clipped = torch.clamp(ratio, 1 - clip_eps, 1 + clip_eps)
        surrogate = torch.min(ratio * A, clipped * A)
        d = ref_logp - logp
        kl = torch.exp(d) - d - 1
        per_token = -(surrogate - beta * kl)
        m = mask.to(logp.dtype)
        per_seq = (per_token * m).sum(dim=-1) / m.sum(dim=-1)
        return per_seq.mean(), advantages
"""

CORRECT = {
    "loop-over-completions": """
        import torch
        def grpo_loss(logp, old_logp, ref_logp, rewards, mask, beta=0.04, clip_eps=0.2, eps=1e-4):
            G, T = logp.shape[-2], logp.shape[-1]
            lp, old, ref = logp.reshape(-1, G, T), old_logp.reshape(-1, G, T), ref_logp.reshape(-1, G, T)
            r, mk = rewards.reshape(-1, G), mask.reshape(-1, G, T)
            advs, seq_losses = [], []
            for b in range(r.shape[0]):
                mu = r[b].sum() / G
                sd = torch.sqrt(((r[b] - mu) ** 2).sum() / (G - 1))
                a = (r[b] - mu) / (sd + eps)
                advs.append(a)
                for i in range(G):
                    keep = mk[b, i]
                    x, o, rf = lp[b, i][keep], old[b, i][keep], ref[b, i][keep]
                    ratio = torch.exp(x - o)
                    s = torch.min(ratio * a[i], torch.clamp(ratio, 1 - clip_eps, 1 + clip_eps) * a[i])
                    kl = torch.exp(rf - x) - (rf - x) - 1
                    seq_losses.append(-(s - beta * kl).mean())
            return torch.stack(seq_losses).mean(), torch.stack(advs).reshape(rewards.shape)
    """,
    "where-clip-float64-expm1": """
        import torch
        def grpo_loss(logp, old_logp, ref_logp, rewards, mask, beta=0.04, clip_eps=0.2, eps=1e-4):
            dt = logp.dtype
            lp, old, ref, r = logp.double(), old_logp.double(), ref_logp.double(), rewards.double()
            G = r.shape[-1]
            centred = r - r.mean(-1, keepdim=True)
            std = (centred.pow(2).sum(-1, keepdim=True) / (G - 1)).sqrt()
            adv = centred / (std + eps)
            A = adv[..., None]
            ratio = (lp - old).exp()
            bounded = torch.where(A > 0, torch.clamp(ratio, max=1 + clip_eps), torch.clamp(ratio, min=1 - clip_eps))
            surr = bounded * A
            d = ref - lp
            kl = torch.expm1(d) - d
            w = mask.double() / mask.double().sum(-1, keepdim=True)
            per_seq = ((beta * kl - surr) * w).sum(-1)
            return per_seq.mean().to(dt), adv.to(dt)
    """,
    "flattened-ppo-max-form": """
        import torch
        def grpo_loss(logp, old_logp, ref_logp, rewards, mask, beta=0.04, clip_eps=0.2, eps=1e-4):
            G, T = logp.shape[-2:]
            r = rewards.reshape(-1, G)
            adv = (r - r.mean(1, keepdim=True)) / (torch.var(r, dim=1, unbiased=True, keepdim=True).sqrt() + eps)
            A = adv.reshape(-1, 1)                                  # (N, 1)
            lp, old, ref = logp.reshape(-1, T), old_logp.reshape(-1, T), ref_logp.reshape(-1, T)
            mk = mask.reshape(-1, T)
            log_ratio = lp - old
            ratio = log_ratio.exp()
            pg = torch.max(-A * ratio, -A * ratio.clamp(1 - clip_eps, 1 + clip_eps))
            kl = torch.exp(ref - lp) - 1 - (ref - lp)
            tok = (pg + beta * kl).masked_fill(~mk, 0.0)
            return (tok.sum(1) / mk.sum(1)).mean(), adv.reshape(rewards.shape)
    """,
    "einsum-weights": """
        import torch
        def grpo_loss(logp, old_logp, ref_logp, rewards, mask, beta=0.04, clip_eps=0.2, eps=1e-4):
            adv = (rewards - rewards.mean(-1, keepdim=True)) / (rewards.std(-1, correction=1, keepdim=True) + eps)
            ratio = torch.exp(logp - old_logp)
            A = adv.unsqueeze(-1).expand_as(ratio)
            surr = torch.minimum(ratio * A, ratio.clamp(1 - clip_eps, 1 + clip_eps) * A)
            kl = torch.exp(ref_logp - logp) + logp - ref_logp - 1
            m = mask.to(logp.dtype)
            w = m / m.sum(-1, keepdim=True) / m[..., 0].numel()     # 1 / (|o_i| * number of completions)
            loss = torch.einsum('...t,...t->', beta * kl - surr, w)
            return loss, adv
    """,
}


def _bug(*pairs: tuple[str, str]) -> str:
    return mutate(_BASE, *pairs)


BUGS = {
    "biased-std": _bug(("rewards.std(dim=-1, keepdim=True)", "rewards.std(dim=-1, keepdim=True, unbiased=False)")),
    "token-mean": _bug(("per_seq = (per_token * m).sum(dim=-1) / m.sum(dim=-1)\n        return per_seq.mean(), advantages",
                        "return (per_token * m).sum() / m.sum(), advantages")),
    "constant-normaliser": _bug(("per_seq = (per_token * m).sum(dim=-1) / m.sum(dim=-1)\n        return per_seq.mean(), advantages",
                                 "return (per_token * m).sum() / m.numel(), advantages")),
    "mask-ignored": _bug(("per_seq = (per_token * m).sum(dim=-1) / m.sum(dim=-1)", "per_seq = per_token.mean(dim=-1)")),
    "kl-outside-the-mask": _bug(("per_token = -(surrogate - beta * kl)", "per_token = -surrogate"),
                                ("return per_seq.mean(), advantages", "return per_seq.mean() + beta * kl.mean(), advantages")),
    "kl-direction-swapped": _bug(("d = ref_logp - logp", "d = logp - ref_logp")),
    "kl-k1-estimator": _bug(("kl = torch.exp(d) - d - 1", "kl = -d")),
    "normalised-over-whole-batch": _bug(("mean = rewards.mean(dim=-1, keepdim=True)\n        std = rewards.std(dim=-1, keepdim=True)",
                                         "mean = rewards.mean()\n        std = rewards.std()")),
    "no-std-normalisation": _bug(("advantages = (rewards - mean) / (std + eps)", "advantages = rewards - mean")),
    "max-instead-of-min": _bug(("torch.min(ratio * A, clipped * A)", "torch.max(ratio * A, clipped * A)")),
    "clipped-term-only": _bug(("torch.min(ratio * A, clipped * A)", "clipped * A")),
    "ratio-inverted": _bug(("torch.exp(logp - old_logp)", "torch.exp(old_logp - logp)")),
    "kl-added-with-wrong-sign": _bug(("-(surrogate - beta * kl)", "-(surrogate + beta * kl)")),
    "forgot-the-minus": _bug(("per_token = -(surrogate - beta * kl)", "per_token = surrogate - beta * kl")),
    "beta-zero-treated-as-unset": _bug(("kl = torch.exp(d) - d - 1", "kl = torch.exp(d) - d - 1\n        beta = beta or 0.04")),
}


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass_within_half_tolerance(grade_source, name):
    assert_within_half_tolerance(grade_source(PROBLEM, CORRECT[name]))


@pytest.mark.parametrize("name", BUGS)
def test_bugs_fail(grade_source, name):
    verdict = grade_source(PROBLEM, BUGS[name])
    assert verdict.status == "failed", describe(verdict)
    assert_rejected(verdict)


def _paper_grpo(logp, old, ref, rewards, mask, beta, clip_eps, eps):
    """DeepSeekMath's GRPO objective (eq. 3, outcome supervision, eq. 4 k3 KL), written as plain
    float64 loops: returns (loss, advantages, d loss / d logp)."""
    G, T = logp.shape[-2:]
    lp, ol, rf = (x.reshape(-1, G, T) for x in (logp, old, ref))
    r, mk = rewards.reshape(-1, G), mask.reshape(-1, G, T)
    n_seq = r.size
    adv = np.zeros_like(r)
    grad = np.zeros_like(lp)
    total = 0.0
    for b in range(r.shape[0]):
        mu = sum(r[b]) / G
        sd = math.sqrt(sum((x - mu) ** 2 for x in r[b]) / (G - 1))
        for i in range(G):
            a = (r[b, i] - mu) / (sd + eps)
            adv[b, i] = a
            valid = [t for t in range(T) if mk[b, i, t]]
            seq = 0.0
            for t in valid:
                ratio = math.exp(lp[b, i, t] - ol[b, i, t])
                clipped = min(max(ratio, 1 - clip_eps), 1 + clip_eps)
                unclipped_wins = ratio * a <= clipped * a
                surr = ratio * a if unclipped_wins else clipped * a
                d = rf[b, i, t] - lp[b, i, t]
                kl = math.exp(d) - d - 1
                seq += surr - beta * kl
                d_surr = ratio * a if (unclipped_wins or 1 - clip_eps <= ratio <= 1 + clip_eps) else 0.0
                grad[b, i, t] = -(d_surr - beta * (1 - math.exp(d))) / len(valid) / n_seq
            total += seq / len(valid)
    return -total / n_seq, adv.reshape(rewards.shape), grad.reshape(logp.shape)


def test_reference_matches_the_paper_formulas_on_every_case():
    for case in stored_cases(PROBLEM):
        args, _, _ = build_inputs(case)
        lp = args[0].detach().double().requires_grad_(True)
        rest = [a.detach().double() if a.is_floating_point() else a for a in args[1:5]]
        params = dict(zip(("beta", "clip_eps", "eps"), args[5:]))
        loss, adv = reference(PROBLEM)(lp, *rest, **params)
        upstream = float(case.inputs["_upstream"])
        loss.backward(torch.tensor(upstream, dtype=torch.float64))
        full = {"beta": 0.04, "clip_eps": 0.2, "eps": 1e-4, **params}
        e_loss, e_adv, e_grad = _paper_grpo(lp.detach().numpy(), *(x.numpy() for x in rest), **full)
        np.testing.assert_allclose(loss.item(), e_loss, rtol=1e-11, atol=1e-13, err_msg=case.name)
        np.testing.assert_allclose(adv.numpy(), e_adv, rtol=1e-11, atol=1e-13, err_msg=case.name)
        np.testing.assert_allclose(lp.grad.numpy(), upstream * e_grad, rtol=1e-10, atol=1e-13, err_msg=case.name)
        np.testing.assert_allclose(case.outputs["loss"], e_loss, rtol=1e-6, atol=1e-7, err_msg=case.name)


def test_cases_cover_every_clip_regime():
    """Across the cases, tokens sit in each of the four regimes of the clipped objective."""
    seen = set()
    for case in stored_cases(PROBLEM):
        args, _, _ = build_inputs(case)
        lp, old, _, r, mask = (a.detach().double() if a.is_floating_point() else a for a in args[:5])
        clip_eps = args[6] if len(args) > 6 else 0.2
        adv = (r - r.mean(-1, keepdim=True)).unsqueeze(-1).expand_as(lp)
        ratio = torch.exp(lp - old)
        for sign, s in (("pos", adv > 0), ("neg", adv < 0)):
            for side, o in (("high", ratio > 1 + clip_eps), ("low", ratio < 1 - clip_eps)):
                if (s & o & mask).any():
                    seen.add((sign, side))
    assert seen == {("pos", "high"), ("pos", "low"), ("neg", "high"), ("neg", "low")}, seen


NEAR_MISSES = {
    "biased-std": BUGS["biased-std"],
    "token-mean": BUGS["token-mean"],
    "constant-normaliser": BUGS["constant-normaliser"],
}


@pytest.mark.parametrize("variant", NEAR_MISSES)
def test_near_misses_are_named(grade_source, variant):
    assert_near_miss(grade_source(PROBLEM, NEAR_MISSES[variant]), PROBLEM, variant)


def test_enough_alternatives_and_bugs():
    assert len(CORRECT) >= 3 and len(BUGS) >= 5
