"""lstm: the reference equals nn.LSTM with the same weights (outputs, final states and
gradients) on every stored case, correct variants pass, realistic bugs fail."""

from __future__ import annotations

import pytest
import torch

from drillcli.harness import build_inputs
from tests.support import assert_rejected, assert_within_half_tolerance, describe, reference, stored_cases

PROBLEM = "lstm"

CORRECT = {
    "input-projection-first-slices": """
        import torch
        def lstm(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
            T, B, _ = x.shape
            H = W_hh.shape[1]
            xw = x @ W_ih.T + (b_ih + b_hh)             # (T, B, 4H)
            h = x.new_zeros(B, H) if h0 is None else h0
            c = x.new_zeros(B, H) if c0 is None else c0
            outs = []
            for t in range(T):
                z = xw[t] + h @ W_hh.T
                i = torch.sigmoid(z[:, :H]); f = torch.sigmoid(z[:, H:2*H])
                g = torch.tanh(z[:, 2*H:3*H]); o = torch.sigmoid(z[:, 3*H:])
                c = f * c + i * g
                h = o * torch.tanh(c)
                outs.append(h)
            return torch.stack(outs), (h, c)
    """,
    "per-gate-weights-einsum": """
        import torch
        def lstm(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
            H = W_hh.shape[1]
            Wi, Wf, Wg, Wo = W_ih.view(4, H, -1).unbind(0) if W_ih.is_contiguous() else W_ih.reshape(4, H, -1).unbind(0)
            Ui, Uf, Ug, Uo = W_hh.reshape(4, H, H).unbind(0)
            bi, bf, bg, bo = (b_ih + b_hh).reshape(4, H).unbind(0)
            h = torch.zeros(x.shape[1], H, dtype=x.dtype) if h0 is None else h0
            c = torch.zeros(x.shape[1], H, dtype=x.dtype) if c0 is None else c0
            out = []
            for x_t in x:
                lin = lambda W, U, b: torch.einsum("bi,hi->bh", x_t, W) + torch.einsum("bk,hk->bh", h, U) + b
                i, f, o = torch.sigmoid(lin(Wi, Ui, bi)), torch.sigmoid(lin(Wf, Uf, bf)), torch.sigmoid(lin(Wo, Uo, bo))
                c = f * c + i * torch.tanh(lin(Wg, Ug, bg))
                h = o * torch.tanh(c)
                out.append(h)
            return torch.stack(out), (h, c)
    """,
    "float64-addmm-sigmoid-via-tanh": """
        import torch
        def lstm(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
            dt = x.dtype
            x, W_ih, W_hh, b_ih, b_hh = (t.double() for t in (x, W_ih, W_hh, b_ih, b_hh))
            B, H = x.shape[1], W_hh.shape[1]
            h = torch.zeros(B, H, dtype=torch.float64) if h0 is None else h0.double()
            c = torch.zeros(B, H, dtype=torch.float64) if c0 is None else c0.double()
            sig = lambda z: 0.5 * (1 + torch.tanh(0.5 * z))   # sigmoid(z) = (1 + tanh(z/2)) / 2
            outs = []
            for x_t in x:
                z = torch.addmm(b_ih + b_hh, x_t, W_ih.T) + h @ W_hh.T
                i, f, g, o = z.chunk(4, 1)
                c = sig(f) * c + sig(i) * torch.tanh(g)
                h = sig(o) * torch.tanh(c)
                outs.append(h)
            return torch.stack(outs).to(dt), (h.to(dt), c.to(dt))
    """,
}

TEMPLATE = """
import torch
def lstm(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    B, H = x.shape[1], W_hh.shape[1]
    h = x.new_zeros(B, H) if h0 is None else h0
    c = x.new_zeros(B, H) if c0 is None else c0
    outs = []
    for x_t in x:
        z = x_t @ W_ih.T + b_ih + HH + b_hh
        GATES = z.chunk(4, dim=-1)
        C_LINE
        H_LINE
        outs.append(h)
    RETURN
"""


def variant(hh="h @ W_hh.T", gates="i, f, g, o", c_line="c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)",
            h_line="h = torch.sigmoid(o) * torch.tanh(c)", ret="return torch.stack(outs), (h, c)"):
    return (TEMPLATE.replace("HH", hh).replace("GATES", gates).replace("C_LINE", c_line)
            .replace("H_LINE", h_line).replace("RETURN", ret))


BUGS = {
    "gate-order-ifog": variant(gates="i, f, o, g"),
    "gate-order-igfo": variant(gates="i, g, f, o"),
    "w-hh-reshaped-not-transposed": variant(hh="h @ W_hh.reshape(H, 4 * H)"),   # reads (4H, H) as (H, 4H)
    "h-uses-c-without-tanh": variant(h_line="h = torch.sigmoid(o) * c"),
    "candidate-with-sigmoid": variant(c_line="c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.sigmoid(g)"),
    "returns-c-for-h": variant(ret="return torch.stack(outs), (c, h)"),
    "forget-and-input-swapped-roles": variant(c_line="c = torch.sigmoid(i) * c + torch.sigmoid(f) * torch.tanh(g)"),
    "flat-return-tuple": variant(ret="return torch.stack(outs), h, c"),
}

STATUS = {
          "flat-return-tuple": ("wrong_return",)}


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass_within_half_tolerance(grade_source, name):
    verdict = grade_source(PROBLEM, CORRECT[name])
    assert_within_half_tolerance(verdict)


def test_template_is_correct(grade_source):
    verdict = grade_source(PROBLEM, variant())
    assert verdict.ok, describe(verdict)


@pytest.mark.parametrize("name", BUGS)
def test_bugs_fail(grade_source, name):
    verdict = grade_source(PROBLEM, BUGS[name])
    assert verdict.status in STATUS.get(name, ("failed",)), describe(verdict)
    assert_rejected(verdict)


def test_reference_matches_nn_lstm_on_every_case():
    """In float64 (the fixtures' expected values are computed in float64): outputs, states, gradients."""
    names = ("x", "h0", "c0", "W_ih", "W_hh", "b_ih", "b_hh")
    for case in stored_cases(PROBLEM):
        args, _, _ = build_inputs(case)
        vals = dict(zip(names, (None if a is None else a.detach().double() for a in args)))
        H, I = vals["W_hh"].shape[1], vals["W_ih"].shape[1]
        module = torch.nn.LSTM(I, H).double()
        with torch.no_grad():
            for p, n in (("weight_ih_l0", "W_ih"), ("weight_hh_l0", "W_hh"), ("bias_ih_l0", "b_ih"), ("bias_hh_l0", "b_hh")):
                getattr(module, p).copy_(vals[n])
        mine = {n: (None if v is None else v.clone().requires_grad_(True)) for n, v in vals.items()}
        out, (h_n, c_n) = reference(PROBLEM)(*mine.values())
        B = vals["x"].shape[1]
        x_lib = vals["x"].clone().requires_grad_(True)
        h0_lib = (torch.zeros(B, H, dtype=torch.float64) if vals["h0"] is None else vals["h0"].clone())[None].requires_grad_(True)
        c0_lib = (torch.zeros(B, H, dtype=torch.float64) if vals["c0"] is None else vals["c0"].clone())[None].requires_grad_(True)
        out_lib, (h_lib, c_lib) = module(x_lib, (h0_lib, c0_lib))
        torch.testing.assert_close(out, out_lib, rtol=1e-10, atol=1e-12, msg=case.name)
        torch.testing.assert_close(h_n, h_lib[0], rtol=1e-10, atol=1e-12, msg=case.name)
        torch.testing.assert_close(c_n, c_lib[0], rtol=1e-10, atol=1e-12, msg=case.name)
        if case.grad:
            upstream = torch.from_numpy(case.inputs["_upstream"]).double()
            out.backward(upstream)
            out_lib.backward(upstream)
            lib = {"x": x_lib.grad, "h0": h0_lib.grad[0], "c0": c0_lib.grad[0], "W_ih": module.weight_ih_l0.grad,
                   "W_hh": module.weight_hh_l0.grad, "b_ih": module.bias_ih_l0.grad, "b_hh": module.bias_hh_l0.grad}
            for g in case.grad:
                torch.testing.assert_close(mine[g].grad, lib[g], rtol=1e-9, atol=1e-12, msg=f"{case.name} {g}")
