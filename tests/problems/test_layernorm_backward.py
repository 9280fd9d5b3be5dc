"""layernorm-backward: the reference equals autograd through torch.nn.functional.layer_norm
on every stored case, correct variants pass, realistic bugs fail, autograd is refused."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from drillcli.harness import build_inputs
from tests.support import (assert_near_miss, assert_rejected, assert_within_half_tolerance, describe, mutate,
                           reference, stored_cases)

PROBLEM = "layernorm-backward"

STAGED = """
    import torch
    def layernorm_backward(x, gamma, beta, dy, eps=1e-5):
        D = x.shape[-1]
        mu = x.sum(-1, keepdim=True) / D
        xmu = x - mu
        sq = xmu ** 2
        var = sq.sum(-1, keepdim=True) / D
        sqrtvar = torch.sqrt(var + eps)
        ivar = 1.0 / sqrtvar
        xhat = xmu * ivar
        lead = tuple(range(x.dim() - 1))
        dbeta = dy.sum(lead) if lead else dy.clone()
        dgamma = (dy * xhat).sum(lead) if lead else dy * xhat
        dxhat = dy * gamma
        divar = (dxhat * xmu).sum(-1, keepdim=True)
        dxmu1 = dxhat * ivar
        dsqrtvar = -1.0 / sqrtvar ** 2 * divar
        dvar = 0.5 / torch.sqrt(var + eps) * dsqrtvar
        dsq = torch.ones_like(x) / D * dvar
        dxmu2 = 2 * xmu * dsq
        dx1 = dxmu1 + dxmu2
        dmu = -dx1.sum(-1, keepdim=True)
        dx2 = torch.ones_like(x) / D * dmu
        return dx1 + dx2, dgamma, dbeta
"""

CORRECT = {
    "cs231n-staged-graph": STAGED,
    "ioffe-szegedy-equations-per-row": """
        import torch
        def layernorm_backward(x, gamma, beta, dy, eps=1e-5):
            m = x.shape[-1]
            mu = x.mean(-1, keepdim=True)
            var = x.var(-1, unbiased=False, keepdim=True)
            xhat = (x - mu) / torch.sqrt(var + eps)
            dxhat = dy * gamma
            dvar = (dxhat * (x - mu)).sum(-1, keepdim=True) * -0.5 * (var + eps) ** -1.5
            dmu = (-dxhat / torch.sqrt(var + eps)).sum(-1, keepdim=True) + dvar * (-2 * (x - mu)).mean(-1, keepdim=True)
            dx = dxhat / torch.sqrt(var + eps) + dvar * 2 * (x - mu) / m + dmu / m
            flat = lambda t: t.reshape(-1, m)
            return dx, (flat(dy) * flat(xhat)).sum(0), flat(dy).sum(0)
    """,
    "float64-einsum-compact": """
        import torch
        def layernorm_backward(x, gamma, beta, dy, eps=1e-5):
            dt, shape, d = x.dtype, x.shape, x.shape[-1]
            x, gamma, dy = x.double().reshape(-1, d), gamma.double(), dy.double().reshape(-1, d)
            xc = x - x.mean(1, keepdim=True)
            inv = 1 / torch.sqrt(torch.einsum("nd,nd->n", xc, xc)[:, None] / d + eps)
            xhat = xc * inv
            g = dy * gamma
            dx = inv * (g - g.mean(1, keepdim=True) - xhat * torch.einsum("nd,nd->n", g, xhat)[:, None] / d)
            return dx.reshape(shape).to(dt), torch.einsum("nd,nd->d", dy, xhat).to(dt), dy.sum(0).to(dt)
    """,
    "loops-over-rows": """
        import torch
        def layernorm_backward(x, gamma, beta, dy, eps=1e-5):
            d = x.shape[-1]
            xs, ups = x.reshape(-1, d), dy.reshape(-1, d)
            dx = torch.empty_like(xs)
            dgamma = torch.zeros_like(gamma)
            dbeta = torch.zeros_like(gamma)
            for i in range(xs.shape[0]):
                row, up = xs[i], ups[i]
                mean = row.mean()
                std = torch.sqrt(((row - mean) ** 2).mean() + eps)
                xhat = (row - mean) / std
                g = up * gamma
                dx[i] = (g - g.mean() - xhat * (g * xhat).mean()) / std
                dgamma += up * xhat
                dbeta += up
            return dx.reshape(x.shape), dgamma, dbeta
    """,
    "transpose-to-batchnorm-columns": """
        import torch
        def layernorm_backward(x, gamma, beta, dy, eps=1e-5):
            d = x.shape[-1]
            xt, gt = x.reshape(-1, d).T, (dy * gamma).reshape(-1, d).T      # (D, N): one column per row of x
            mean = xt.mean(0)
            var = ((xt - mean) ** 2).mean(0)
            inv = torch.rsqrt(var + eps)
            xhat = (xt - mean) * inv
            dxt = inv / d * (d * gt - gt.sum(0) - xhat * (gt * xhat).sum(0))
            dyt = dy.reshape(-1, d).T
            return dxt.T.reshape(x.shape), (dyt * xhat).sum(1), dyt.sum(1)
    """,
}


def _compact(dx="inv_std / d * (d * g - g.sum(-1, keepdim=True) - x_hat * (g * x_hat).sum(-1, keepdim=True))",
             var="((x - mean) ** 2).mean(-1, keepdim=True)", inv="torch.rsqrt(var + eps)",
             dgamma="(dy * x_hat).reshape(-1, d).sum(0)", dbeta="dy.reshape(-1, d).sum(0)", g="dy * gamma"):
    return f"""
        import torch
        def layernorm_backward(x, gamma, beta, dy, eps=1e-5):
            d = x.shape[-1]
            mean = x.mean(-1, keepdim=True)
            var = {var}
            inv_std = {inv}
            x_hat = (x - mean) * inv_std
            g = {g}
            dx = {dx}
            return dx, {dgamma}, {dbeta}
    """


BUGS = {
    # the gradient as if mean and var were constants
    "ignores-mean-and-variance-paths": _compact(dx="g * inv_std"),
    "forgets-mean-of-dxhat-term": _compact(dx="inv_std / d * (d * g - x_hat * (g * x_hat).sum(-1, keepdim=True))"),
    "forgets-variance-path": _compact(dx="inv_std * (g - g.mean(-1, keepdim=True))"),
    "unbiased-variance": _compact(var="x.var(-1, keepdim=True)"),
    "eps-outside-sqrt": _compact(inv="1 / (torch.sqrt(var) + eps)"),
    "dgamma-dbeta-swapped": _compact(dgamma="dy.reshape(-1, d).sum(0)", dbeta="(dy * x_hat).reshape(-1, d).sum(0)"),
    "dgamma-summed-over-feature-axis": _compact(dgamma="(dy * x_hat).sum(-1)", dbeta="dy.sum(-1)"),
    "reduces-only-axis-0": _compact(dgamma="(dy * x_hat).sum(0)", dbeta="dy.sum(0)"),
    "dgamma-uses-x-not-x-hat": _compact(dgamma="(dy * x).reshape(-1, d).sum(0)"),
    "forgets-gamma-in-dx": _compact(g="dy"),
    "row-sums-without-keepdim": _compact(
        dx="inv_std / d * (d * g - g.sum(-1) - x_hat * (g * x_hat).sum(-1))"),
    "zero-eps-means-default": _compact(inv="torch.rsqrt(var + (eps or 1e-5))"),
    "statistics-over-batch-axis": mutate(_compact(), ("x.mean(-1, keepdim=True)", "x.mean(0, keepdim=True)"),
                                         ("((x - mean) ** 2).mean(-1, keepdim=True)", "((x - mean) ** 2).mean(0, keepdim=True)")),
    "dvar-sign-flipped": mutate(CORRECT["ioffe-szegedy-equations-per-row"], ("* -0.5 *", "* 0.5 *")),
    "staged-graph-divides-by-d-minus-1": mutate(STAGED, ("dsq = torch.ones_like(x) / D", "dsq = torch.ones_like(x) / (D - 1)")),
}

# wrong shapes rather than wrong values on some cases: still a failed grade
STATUS = {"reduces-only-axis-0": ("failed", "error"), "row-sums-without-keepdim": ("failed", "error"),
          "statistics-over-batch-axis": ("failed", "error")}


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass_within_half_tolerance(grade_source, name):
    verdict = grade_source(PROBLEM, CORRECT[name])
    assert_within_half_tolerance(verdict)


def test_the_compact_template_is_correct(grade_source):
    assert_within_half_tolerance(grade_source(PROBLEM, _compact()))


@pytest.mark.parametrize("name", BUGS)
def test_bugs_fail(grade_source, name):
    verdict = grade_source(PROBLEM, BUGS[name])
    assert verdict.status in STATUS.get(name, ("failed",)), describe(verdict)
    assert_rejected(verdict)


@pytest.mark.parametrize("body", [
    "    x = x.detach().requires_grad_(); g = gamma.detach().requires_grad_(); b = beta.detach().requires_grad_()\n"
    "    m = x.mean(-1, keepdim=True); v = x.var(-1, unbiased=False, keepdim=True)\n"
    "    y = (x - m) / torch.sqrt(v + eps) * g + b\n"
    "    return torch.autograd.grad(y, (x, g, b), dy)\n",
    "    x = x.detach().requires_grad_(); g = gamma.detach().requires_grad_(); b = beta.detach().requires_grad_()\n"
    "    m = x.mean(-1, keepdim=True); v = x.var(-1, unbiased=False, keepdim=True)\n"
    "    ((x - m) / torch.sqrt(v + eps) * g + b).backward(dy)\n"
    "    return x.grad, g.grad, b.grad\n",
    "    from torch.func import vjp\n"
    "    _, f = vjp(lambda x, g, b: torch.nn.functional.layer_norm(x, x.shape[-1:], g, b, eps), x, gamma, beta)\n"
    "    return f(dy)\n",
    "    x = x.detach().requires_grad_()\n"
    "    y = torch.layer_norm(x, x.shape[-1:], gamma, beta, eps)\n"
    "    return x, gamma, beta\n",
])
def test_autograd_and_library_layer_norm_are_refused(grade_source, body):
    verdict = grade_source(PROBLEM, "import torch\ndef layernorm_backward(x, gamma, beta, dy, eps=1e-5):\n" + body)
    assert verdict.status == "forbidden", describe(verdict)


def test_reference_matches_autograd_through_torch_layer_norm_on_every_case():
    cases = stored_cases(PROBLEM)
    assert len(cases) >= 20
    for case in cases:
        args, _, _ = build_inputs(case)
        dx, dgamma, dbeta = reference(PROBLEM)(*args)
        x, gamma, beta, dy = (a.detach().double().requires_grad_(i < 3) for i, a in enumerate(args[:4]))
        eps = args[4] if len(args) > 4 else 1e-5
        y = F.layer_norm(x, (x.shape[-1],), gamma, beta, eps)
        want = torch.autograd.grad(y, (x, gamma, beta), dy, allow_unused=True)
        want = [w if w is not None else torch.zeros_like(t) for w, t in zip(want, (x, gamma, beta))]
        tol = {"atol": 1e-5, "rtol": 1e-4} if case.dtype == "float32" else {"atol": 1e-9, "rtol": 1e-7}
        for name, ours, theirs in zip(("dx", "dgamma", "dbeta"), (dx, dgamma, dbeta), want):
            assert ours.dtype == args[0].dtype, (case.name, name)
            assert ours.shape == theirs.shape, (case.name, name)
            torch.testing.assert_close(ours.double(), theirs, msg=f"{case.name} {name}", **tol)
            # the stored expectation (computed in float64, rounded once) is as close to torch's
            torch.testing.assert_close(torch.from_numpy(case.outputs[name]).double(), theirs,
                                       msg=f"{case.name} {name}", **tol)


# files written in another convention: each verdict names it
NEAR_MISSES = {"unbiased-variance": BUGS["unbiased-variance"], "eps-outside-sqrt": BUGS["eps-outside-sqrt"]}


@pytest.mark.parametrize("variant", NEAR_MISSES)
def test_near_misses_are_named(grade_source, variant):
    assert_near_miss(grade_source(PROBLEM, NEAR_MISSES[variant]), PROBLEM, variant)
