"""mlp-backprop: the reference's loss equals F.cross_entropy of an nn.Sequential with the same
weights and its gradients equal autograd's, on every stored case; correct variants pass,
realistic bugs fail, autograd is refused."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from drillcli.harness import build_inputs
from tests.support import assert_rejected, assert_within_half_tolerance, describe, reference, stored_cases

PROBLEM = "mlp-backprop"

CORRECT = {
    "one-hot-softmax": """
        import torch
        def mlp_forward_backward(x, y, W1, b1, W2, b2):
            N, C = x.shape[0], W2.shape[0]
            z1 = x @ W1.T + b1
            h = torch.relu(z1)
            logits = h @ W2.T + b2
            p = torch.softmax(logits, dim=1)
            onehot = torch.nn.functional.one_hot(y, C).to(x.dtype)
            loss = torch.nn.functional.cross_entropy(logits, y)
            d = (p - onehot) / N
            dh = d @ W2
            dz = dh.masked_fill(z1 <= 0, 0.0)
            return loss, dz.T @ x, dz.sum(0), d.T @ h, d.sum(0)
    """,
    "einsum-float64": """
        import torch
        def mlp_forward_backward(x, y, W1, b1, W2, b2):
            dt = x.dtype
            x, W1, b1, W2, b2 = (t.double() for t in (x, W1, b1, W2, b2))
            N = x.shape[0]
            z1 = torch.einsum("nd,hd->nh", x, W1) + b1
            h = torch.where(z1 > 0, z1, torch.zeros_like(z1))
            logits = torch.einsum("nh,ch->nc", h, W2) + b2
            m = logits.max(1, keepdim=True).values
            e = torch.exp(logits - m)
            s = e.sum(1, keepdim=True)
            loss = (torch.log(s) + m - logits.gather(1, y[:, None])).mean()
            d = e / s
            d[torch.arange(N), y] -= 1.0
            d = d / N
            dz = torch.einsum("nc,ch->nh", d, W2) * (z1 > 0).double()
            out = (loss, torch.einsum("nh,nd->hd", dz, x), dz.sum(0), torch.einsum("nc,nh->ch", d, h), d.sum(0))
            return tuple(t.to(dt) for t in out)
    """,
    "per-sample-loop": """
        import torch
        def mlp_forward_backward(x, y, W1, b1, W2, b2):
            N = x.shape[0]
            gW1, gb1, gW2, gb2 = (torch.zeros_like(t) for t in (W1, b1, W2, b2))
            total = torch.zeros((), dtype=x.dtype)
            for i in range(N):
                z = W1 @ x[i] + b1
                h = torch.clamp(z, min=0)
                o = W2 @ h + b2
                lp = torch.log_softmax(o, dim=0)
                total = total - lp[y[i]]
                do = lp.exp()
                do[y[i]] -= 1
                gW2 += torch.outer(do, h); gb2 += do
                dz = (W2.T @ do) * (z > 0)
                gW1 += torch.outer(dz, x[i]); gb1 += dz
            return total / N, gW1 / N, gb1 / N, gW2 / N, gb2 / N
    """,
}

TEMPLATE = """
import torch
def mlp_forward_backward(x, y, W1, b1, W2, b2):
    N = x.shape[0]
    rows = torch.arange(N)
    z1 = x @ W1.T + b1
    h = z1.clamp(min=0)
    logits = h @ W2.T + b2
    LOGP
    loss = -logp[rows, y].mean()
    d = logp.exp()
    d[rows, y] -= 1
    SCALE
    dW2 = DW2
    db2 = d.sum(0)
    dz1 = (d @ W2) * MASK
    dW1 = dz1.T @ x
    db1 = DB1
    return loss, dW1, db1, dW2, db2
"""


def variant(logp="logp = logits - logits.logsumexp(-1, keepdim=True)", scale="d = d / N", dw2="d.T @ h",
            mask="(z1 > 0)", db1="dz1.sum(0)"):
    return (TEMPLATE.replace("LOGP", logp).replace("SCALE", scale).replace("DW2", dw2)
            .replace("MASK", mask).replace("DB1", db1))


BUGS = {
    "sum-not-mean": variant(scale="pass"),
    "relu-grad-at-zero-is-one": variant(mask="(z1 >= 0)"),
    "softmax-without-max": variant(logp="logp = torch.log(torch.exp(logits) / torch.exp(logits).sum(-1, keepdim=True))"),
    "dW2-transposed": variant(dw2="h.T @ d"),
    "bias-grad-skips-relu": variant(db1="(d @ W2).sum(0)"),
    "forgets-minus-one-at-target": """
        import torch
        def mlp_forward_backward(x, y, W1, b1, W2, b2):
            N = x.shape[0]
            z1 = x @ W1.T + b1
            h = z1.clamp(min=0)
            logits = h @ W2.T + b2
            logp = torch.log_softmax(logits, -1)
            loss = -logp[torch.arange(N), y].mean()
            d = logp.exp() / N                          # softmax, without subtracting the one-hot
            dz1 = (d @ W2) * (z1 > 0)
            return loss, dz1.T @ x, dz1.sum(0), d.T @ h, d.sum(0)
    """,
    "forgets-relu-mask": variant(mask="1"),
    "uses-autograd": """
        import torch
        import torch.nn.functional as F
        def mlp_forward_backward(x, y, W1, b1, W2, b2):
            params = [p.detach().clone().requires_grad_(True) for p in (W1, b1, W2, b2)]
            w1, c1, w2, c2 = params
            loss = F.cross_entropy(torch.relu(x @ w1.T + c1) @ w2.T + c2, y)
            loss.backward()
            return (loss.detach(),) + tuple(p.grad for p in params)
    """,
}

STATUS = {"uses-autograd": ("forbidden",)}


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


def test_autograd_grad_is_refused(grade_source):
    source = """
        import torch
        def mlp_forward_backward(x, y, W1, b1, W2, b2):
            ps = [p.detach().requires_grad_(True) for p in (W1, b1, W2, b2)]
            loss = torch.nn.functional.cross_entropy(torch.relu(x @ ps[0].T + ps[1]) @ ps[2].T + ps[3], y)
            return (loss.detach(),) + torch.autograd.grad(loss, ps)
    """
    assert grade_source(PROBLEM, source).status == "forbidden"


def test_reference_matches_autograd_on_every_case():
    """In float64 (the fixtures' expected values are computed in float64)."""
    for case in stored_cases(PROBLEM):
        args, _, _ = build_inputs(case)
        x, y, W1, b1, W2, b2 = (a.double() if a.is_floating_point() else a for a in args)
        loss, dW1, db1, dW2, db2 = reference(PROBLEM)(x, y, W1, b1, W2, b2)
        net = torch.nn.Sequential(torch.nn.Linear(W1.shape[1], W1.shape[0]), torch.nn.ReLU(),
                                  torch.nn.Linear(W2.shape[1], W2.shape[0])).double()
        with torch.no_grad():
            for p, v in zip(net.parameters(), (W1, b1, W2, b2)):
                p.copy_(v)
        expected = F.cross_entropy(net(x), y)
        expected.backward()
        torch.testing.assert_close(loss, expected, rtol=1e-10, atol=1e-12, msg=case.name)
        for name, mine, p in zip(("dW1", "db1", "dW2", "db2"), (dW1, db1, dW2, db2), net.parameters()):
            torch.testing.assert_close(mine, p.grad, rtol=1e-9, atol=1e-12, msg=f"{case.name} {name}")
