"""vae-reparameterize: the reference's KL equals torch.distributions.kl_divergence, its sample
equals Normal(mu, std) driven by the same noise, and its gradients equal the analytic ones,
on every stored case; correct variants pass, realistic bugs fail."""

from __future__ import annotations

import pytest
import torch
from torch.distributions import Normal, kl_divergence

from drillcli.harness import build_inputs
from tests.support import assert_rejected, assert_within_half_tolerance, describe, reference, stored_cases

PROBLEM = "vae-reparameterize"

CORRECT = {
    "normal-in-place-variance-form": """
        import torch
        def vae_reparameterize(mu, logvar, generator):
            eps = torch.empty(mu.shape, dtype=mu.dtype).normal_(generator=generator)   # same draw as torch.randn
            var = logvar.exp()
            z = mu + var.sqrt() * eps
            kl = 0.5 * (var + mu * mu - 1.0 - logvar).sum(-1)
            return z, kl
    """,
    "float64-intermediates": """
        import torch
        def vae_reparameterize(mu, logvar, generator):
            eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype)   # drawn in the input dtype
            dt = mu.dtype
            m, lv, e = mu.double(), logvar.double(), eps.double()
            z = m + torch.exp(lv / 2) * e
            kl = -0.5 * torch.sum(1 + lv - m.pow(2) - torch.exp(lv), dim=-1)
            return z.to(dt), kl.to(dt)
    """,
    "log-std-form-einsum": """
        import torch
        def vae_reparameterize(mu, logvar, generator):
            log_std = 0.5 * logvar
            std = log_std.exp()
            eps = torch.randn(tuple(mu.shape), generator=generator, dtype=mu.dtype, device=mu.device)
            z = torch.addcmul(mu, std, eps)
            per_dim = 0.5 * (std * std + mu * mu) - 0.5 - log_std
            kl = torch.einsum("...d->...", per_dim)
            return z, kl
    """,
}

TEMPLATE = """
import torch
def vae_reparameterize(mu, logvar, generator):
    eps = EPS
    std = STD
    z = mu + std * eps
    kl = KL
    return z, kl
"""


def variant(eps="torch.randn(mu.shape, generator=generator, dtype=mu.dtype)", std="torch.exp(0.5 * logvar)",
            kl="-0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum(dim=-1)"):
    return TEMPLATE.replace("EPS", eps).replace("STD", std).replace("KL", kl)


BUGS = {
    "empty-like-keeps-layout": """
        import torch
        def vae_reparameterize(mu, logvar, generator):
            eps = torch.empty_like(mu).normal_(generator=generator)    # mu's memory layout
            var = logvar.exp()
            z = mu + var.sqrt() * eps
            kl = 0.5 * (var + mu * mu - 1.0 - logvar).sum(-1)
            return z, kl
    """,
    "std-is-exp-logvar": variant(std="torch.exp(logvar)"),
    "kl-mean-over-latent": variant(kl="-0.5 * (1 + logvar - mu ** 2 - logvar.exp()).mean(dim=-1)"),
    "kl-sign-flipped": variant(kl="0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum(dim=-1)"),
    "kl-uses-std-not-variance": variant(kl="-0.5 * (1 + logvar - mu ** 2 - std).sum(dim=-1)"),
    "kl-batch-mean": variant(kl="(-0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum(dim=-1)).mean()"),
    "randn-like-ignores-generator": variant(eps="torch.randn_like(mu)"),
    "noise-in-float32-then-cast": variant(eps="torch.randn(mu.shape, generator=generator).to(mu.dtype)"),
    "sample-without-grad": """
        import torch
        def vae_reparameterize(mu, logvar, generator):
            with torch.no_grad():
                eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype)
                z = mu + torch.exp(0.5 * logvar) * eps
            kl = -0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum(dim=-1)
            return z, kl
    """,
}

STATUS = {"sample-without-grad": ("wrong_return",)}


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass_within_half_tolerance(grade_source, name):
    assert_within_half_tolerance(grade_source(PROBLEM, CORRECT[name]))


def test_template_is_correct(grade_source):
    verdict = grade_source(PROBLEM, variant())
    assert verdict.ok, describe(verdict)


@pytest.mark.parametrize("name", BUGS)
def test_bugs_fail(grade_source, name):
    verdict = grade_source(PROBLEM, BUGS[name])
    assert verdict.status in STATUS.get(name, ("failed",)), describe(verdict)
    assert_rejected(verdict)


def test_torch_distributions_is_refused(grade_source):
    source = """
        import torch
        from torch.distributions import Normal, kl_divergence
        def vae_reparameterize(mu, logvar, generator):
            q = Normal(mu, torch.exp(0.5 * logvar))
            return q.rsample(), kl_divergence(q, Normal(torch.zeros_like(mu), torch.ones_like(mu))).sum(-1)
    """
    assert grade_source(PROBLEM, source).status == "forbidden"


def test_reference_matches_torch_distributions_on_every_case():
    for case in stored_cases(PROBLEM):
        args, _, _ = build_inputs(case)
        mu, logvar = (a.detach().clone().requires_grad_(True) for a in args)
        z, kl = reference(PROBLEM)(mu, logvar, torch.Generator().manual_seed(case.seed))
        eps = torch.randn(mu.shape, generator=torch.Generator().manual_seed(case.seed), dtype=mu.dtype)
        q = Normal(mu.detach(), torch.exp(0.5 * logvar.detach()))
        prior = Normal(torch.zeros_like(mu), torch.ones_like(mu))
        rtol = 1e-5 if mu.dtype == torch.float32 else 1e-12
        torch.testing.assert_close(kl.detach(), kl_divergence(q, prior).sum(-1), rtol=rtol, atol=1e-6, msg=case.name)
        torch.testing.assert_close(z.detach(), q.loc + q.scale * eps, rtol=rtol, atol=0.0, msg=case.name)
        torch.testing.assert_close(z.detach(), torch.from_numpy(case.outputs["z"]), rtol=0, atol=0, msg=case.name)
        if case.grad:
            up_z = torch.from_numpy(case.inputs["_up_z"])
            up_kl = torch.from_numpy(case.inputs["_up_kl"])
            ((z * up_z).sum() + (kl * up_kl).sum()).backward()
            std = torch.exp(0.5 * logvar.detach())
            want_mu = up_z + up_kl[..., None] * mu.detach()
            want_lv = up_z * 0.5 * std * eps + up_kl[..., None] * 0.5 * (std ** 2 - 1)
            torch.testing.assert_close(mu.grad, want_mu, rtol=rtol, atol=1e-6, msg=case.name)
            torch.testing.assert_close(logvar.grad, want_lv, rtol=rtol, atol=1e-6, msg=case.name)
