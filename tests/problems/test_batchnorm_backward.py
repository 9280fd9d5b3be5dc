"""batchnorm-backward: the reference equals autograd through torch.nn.functional.batch_norm
on every stored case, correct variants pass, realistic bugs fail, autograd is refused."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from drillcli.harness import build_inputs
from tests.support import assert_rejected, assert_within_half_tolerance, describe, reference, stored_cases

PROBLEM = "batchnorm-backward"

CORRECT = {
    "cs231n-staged-graph": """
        import torch
        def batchnorm_backward(x, gamma, beta, dout, eps=1e-5):
            N = x.shape[0]
            mu = x.sum(0) / N
            xmu = x - mu
            sq = xmu ** 2
            var = sq.sum(0) / N
            sqrtvar = torch.sqrt(var + eps)
            ivar = 1.0 / sqrtvar
            xhat = xmu * ivar
            dbeta = dout.sum(0)
            dgammax = dout
            dgamma = (dgammax * xhat).sum(0)
            dxhat = dgammax * gamma
            divar = (dxhat * xmu).sum(0)
            dxmu1 = dxhat * ivar
            dsqrtvar = -1.0 / sqrtvar ** 2 * divar
            dvar = 0.5 * 1.0 / torch.sqrt(var + eps) * dsqrtvar
            dsq = torch.ones_like(x) / N * dvar
            dxmu2 = 2 * xmu * dsq
            dx1 = dxmu1 + dxmu2
            dmu = -dx1.sum(0)
            dx2 = torch.ones_like(x) / N * dmu
            return dx1 + dx2, dgamma, dbeta
    """,
    "ioffe-szegedy-equations": """
        import torch
        def batchnorm_backward(x, gamma, beta, dout, eps=1e-5):
            m = x.shape[0]
            mu = x.mean(0)
            var = x.var(0, unbiased=False)
            xhat = (x - mu) / torch.sqrt(var + eps)
            dxhat = dout * gamma
            dvar = (dxhat * (x - mu)).sum(0) * -0.5 * (var + eps) ** -1.5
            dmu = (dxhat * -1 / torch.sqrt(var + eps)).sum(0) + dvar * (-2 * (x - mu)).sum(0) / m
            dx = dxhat / torch.sqrt(var + eps) + dvar * 2 * (x - mu) / m + dmu / m
            return dx, (dout * xhat).sum(0), dout.sum(0)
    """,
    "float64-einsum-compact": """
        import torch
        def batchnorm_backward(x, gamma, beta, dout, eps=1e-5):
            dt = x.dtype
            x, gamma, dout = x.double(), gamma.double(), dout.double()
            n = x.shape[0]
            xc = x - x.mean(0, keepdim=True)
            inv = 1 / torch.sqrt(torch.einsum("nd,nd->d", xc, xc) / n + eps)
            xhat = xc * inv
            g = dout * gamma
            dx = inv * (g - g.mean(0) - xhat * torch.einsum("nd,nd->d", g, xhat) / n)
            return dx.to(dt), torch.einsum("nd,nd->d", dout, xhat).to(dt), dout.sum(0).to(dt)
    """,
    "loops-over-features": """
        import torch
        def batchnorm_backward(x, gamma, beta, dout, eps=1e-5):
            n, d = x.shape
            dx = torch.empty_like(x)
            dgamma = torch.empty_like(gamma)
            dbeta = torch.empty_like(gamma)
            for j in range(d):
                col, up = x[:, j], dout[:, j]
                mean = col.mean()
                std = torch.sqrt(((col - mean) ** 2).mean() + eps)
                xhat = (col - mean) / std
                g = up * gamma[j]
                dx[:, j] = (g - g.mean() - xhat * (g * xhat).mean()) / std
                dgamma[j] = (up * xhat).sum()
                dbeta[j] = up.sum()
            return dx, dgamma, dbeta
    """,
}


def _compact(dx_line, stats="var = ((x - mean) ** 2).mean(0)", dgamma="(dout * x_hat).sum(0)", dbeta="dout.sum(0)",
             inv="torch.rsqrt(var + eps)"):
    return f"""
        import torch
        def batchnorm_backward(x, gamma, beta, dout, eps=1e-5):
            n = x.shape[0]
            mean = x.mean(0)
            {stats}
            inv_std = {inv}
            x_hat = (x - mean) * inv_std
            g = dout * gamma
            dx = {dx_line}
            return dx, {dgamma}, {dbeta}
    """


GOOD_DX = "inv_std / n * (n * g - g.sum(0) - x_hat * (g * x_hat).sum(0))"

BUGS = {
    "ignores-mean-and-variance-paths": _compact("g * inv_std"),
    "forgets-variance-path": _compact("inv_std * (g - g.mean(0))"),
    "unbiased-variance": _compact(GOOD_DX, stats="var = x.var(0)"),
    "dgamma-uses-x-not-x-hat": _compact(GOOD_DX, dgamma="(dout * x).sum(0)"),
    "sums-over-feature-axis": _compact("inv_std / n * (n * g - g.sum(1, keepdim=True) - x_hat * (g * x_hat).sum(1, keepdim=True))"),
    "eps-outside-sqrt": _compact(GOOD_DX, inv="1 / (torch.sqrt(var) + eps)"),
    "missing-one-over-n": _compact("inv_std * (n * g - g.sum(0) - x_hat * (g * x_hat).sum(0))"),
    "dvar-sign-flipped": """
        import torch
        def batchnorm_backward(x, gamma, beta, dout, eps=1e-5):
            m = x.shape[0]
            mu = x.mean(0)
            var = x.var(0, unbiased=False)
            xhat = (x - mu) / torch.sqrt(var + eps)
            dxhat = dout * gamma
            dvar = (dxhat * (x - mu)).sum(0) * 0.5 * (var + eps) ** -1.5
            dmu = (dxhat * -1 / torch.sqrt(var + eps)).sum(0)
            dx = dxhat / torch.sqrt(var + eps) + dvar * 2 * (x - mu) / m + dmu / m
            return dx, (dout * xhat).sum(0), dout.sum(0)
    """,
    "dgamma-dbeta-swapped": _compact(GOOD_DX, dgamma="dout.sum(0)", dbeta="(dout * x_hat).sum(0)"),
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


@pytest.mark.parametrize("body", [
    "    x = x.detach().requires_grad_(); g = gamma.detach().requires_grad_(); b = beta.detach().requires_grad_()\n"
    "    m = x.mean(0); v = x.var(0, unbiased=False)\n"
    "    y = (x - m) / torch.sqrt(v + eps) * g + b\n"
    "    return torch.autograd.grad(y, (x, g, b), dout)\n",
    "    x = x.detach().requires_grad_(); g = gamma.detach().requires_grad_(); b = beta.detach().requires_grad_()\n"
    "    m = x.mean(0); v = x.var(0, unbiased=False)\n"
    "    ((x - m) / torch.sqrt(v + eps) * g + b).backward(dout)\n"
    "    return x.grad, g.grad, b.grad\n",
    "    from torch.func import vjp\n"
    "    _, f = vjp(lambda x, g, b: torch.nn.functional.batch_norm(x, None, None, g, b, True, 0.0, eps), x, gamma, beta)\n"
    "    return f(dout)\n",
])
def test_autograd_is_refused(grade_source, body):
    verdict = grade_source(PROBLEM, "import torch\ndef batchnorm_backward(x, gamma, beta, dout, eps=1e-5):\n" + body)
    assert verdict.status == "forbidden", describe(verdict)


def test_reference_matches_autograd_through_torch_batch_norm_on_every_case():
    for case in stored_cases(PROBLEM):
        args, _, _ = build_inputs(case)
        dx, dgamma, dbeta = reference(PROBLEM)(*args)
        x, gamma, beta, dout = (a.detach().double().requires_grad_(i < 3) for i, a in enumerate(args[:4]))
        eps = args[4] if len(args) > 4 else 1e-5
        # autograd through the library batch norm; it refuses N = 1 in training mode, so that
        # case goes through the forward written out (variance 0, x_hat = 0)
        if x.shape[0] > 1:
            y = F.batch_norm(x, None, None, gamma, beta, training=True, momentum=0.0, eps=eps)
        else:
            mean, var = x.mean(0), x.var(0, unbiased=False)
            y = (x - mean) / torch.sqrt(var + eps) * gamma + beta
        want = torch.autograd.grad(y, (x, gamma, beta), dout)
        tol = {"atol": 1e-5, "rtol": 1e-4} if case.dtype == "float32" else {"atol": 1e-9, "rtol": 1e-7}
        for name, ours, theirs in zip(("dx", "dgamma", "dbeta"), (dx, dgamma, dbeta), want):
            assert ours.dtype == args[0].dtype, (case.name, name)
            torch.testing.assert_close(ours.double(), theirs, msg=f"{case.name} {name}", **tol)
            torch.testing.assert_close(torch.from_numpy(case.outputs[name]).double(), theirs, msg=f"{case.name} {name}", **tol)
