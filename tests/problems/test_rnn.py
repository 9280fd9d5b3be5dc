"""rnn: the reference equals nn.RNN with the same weights (outputs and gradients) on every
stored case, correct variants pass, realistic bugs fail."""

from __future__ import annotations

import pytest
import torch

from drillcli.harness import build_inputs
from tests.support import assert_rejected, assert_within_half_tolerance, describe, reference, stored_cases

PROBLEM = "rnn"

CORRECT = {
    "input-projection-first": """
        import torch
        def rnn(x, h0, W_ih, W_hh, b_ih, b_hh):
            xw = x @ W_ih.T + b_ih                      # (T, B, H) all steps at once
            h = torch.zeros(x.shape[1], W_hh.shape[0], dtype=x.dtype) if h0 is None else h0
            outs = []
            for t in range(x.shape[0]):
                h = torch.tanh(xw[t] + h @ W_hh.T + b_hh)
                outs.append(h)
            return torch.stack(outs, 0), outs[-1]
    """,
    "einsum-preallocated-output": """
        import torch
        def rnn(x, h0, W_ih, W_hh, b_ih, b_hh):
            T, B, _ = x.shape
            H = W_hh.shape[0]
            out = x.new_empty(T, B, H)
            h = x.new_zeros(B, H) if h0 is None else h0
            for t in range(T):
                h = torch.tanh(torch.einsum("bi,hi->bh", x[t], W_ih) + torch.einsum("bk,hk->bh", h, W_hh) + (b_ih + b_hh))
                out[t] = h
            return out, h
    """,
    "float64-linear": """
        import torch
        import torch.nn.functional as F
        def rnn(x, h0, W_ih, W_hh, b_ih, b_hh):
            dt = x.dtype
            x, W_ih, W_hh, b_ih, b_hh = (t.double() for t in (x, W_ih, W_hh, b_ih, b_hh))
            h = torch.zeros(x.size(1), W_hh.size(0), dtype=torch.float64) if h0 is None else h0.double()
            outs = []
            for x_t in x.unbind(0):
                h = torch.tanh(F.linear(x_t, W_ih, b_ih) + F.linear(h, W_hh, b_hh))
                outs.append(h)
            out = torch.stack(outs)
            return out.to(dt), h.to(dt)
    """,
    "concatenated-weights": """
        import torch
        def rnn(x, h0, W_ih, W_hh, b_ih, b_hh):
            W = torch.cat([W_ih, W_hh], dim=1)         # (H, I + H) acting on [x_t, h]
            h = x.new_zeros(x.shape[1], W_hh.shape[0]) if h0 is None else h0
            outs = []
            for x_t in x:
                h = torch.tanh(torch.cat([x_t, h], dim=1) @ W.T + b_ih + b_hh)
                outs.append(h)
            return torch.stack(outs), h
    """,
}

TEMPLATE = """
import torch
def rnn(x, h0, W_ih, W_hh, b_ih, b_hh):
    h = x.new_zeros(x.shape[1], W_hh.shape[0]) if h0 is None else h0
    outs = []
    for x_t in x:
        STEP
        outs.append(h)
    return torch.stack(outs), h
"""


def variant(step="h = torch.tanh(x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh)"):
    return TEMPLATE.replace("STEP", step)


BUGS = {
    "w-hh-not-transposed": variant("h = torch.tanh(x_t @ W_ih.T + b_ih + h @ W_hh + b_hh)"),
    "one-bias-only": variant("h = torch.tanh(x_t @ W_ih.T + b_ih + h @ W_hh.T)"),
    "relu-instead-of-tanh": variant("h = torch.relu(x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh)"),
    "tanh-from-exp": variant("z = x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh\n"
                             "        h = (torch.exp(z) - torch.exp(-z)) / (torch.exp(z) + torch.exp(-z))"),
    "detached-state": variant("h = torch.tanh(x_t @ W_ih.T + b_ih + h.detach() @ W_hh.T + b_hh)"),
    "output-lags-one-step": """
        import torch
        def rnn(x, h0, W_ih, W_hh, b_ih, b_hh):
            h = x.new_zeros(x.shape[1], W_hh.shape[0]) if h0 is None else h0
            outs = []
            for x_t in x:
                outs.append(h)                          # appends the previous state
                h = torch.tanh(x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh)
            return torch.stack(outs), h
    """,
    "batch-first-confusion": """
        import torch
        def rnn(x, h0, W_ih, W_hh, b_ih, b_hh):
            x = x.transpose(0, 1)                       # treats the input as (B, T, I)
            h = x.new_zeros(x.shape[1], W_hh.shape[0]) if h0 is None else h0.T.contiguous()[: x.shape[1]]
            outs = []
            for x_t in x:
                h = torch.tanh(x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh)
                outs.append(h)
            return torch.stack(outs).transpose(0, 1), h
    """,
}

STATUS = {"batch-first-confusion": ("failed", "error")}


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


def test_reference_matches_nn_rnn_on_every_case():
    """In float64 (the fixtures' expected values are computed in float64): outputs and gradients."""
    for case in stored_cases(PROBLEM):
        args, _, _ = build_inputs(case)
        x, h0, W_ih, W_hh, b_ih, b_hh = (None if a is None else a.detach().double() for a in args)
        H, I = W_ih.shape
        module = torch.nn.RNN(I, H).double()
        with torch.no_grad():
            for name, value in zip(("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"), (W_ih, W_hh, b_ih, b_hh)):
                getattr(module, name).copy_(value)
        names = ("x", "h0", "W_ih", "W_hh", "b_ih", "b_hh")
        mine = {n: (None if v is None else v.clone().requires_grad_(True)) for n, v in zip(names, (x, h0, W_ih, W_hh, b_ih, b_hh))}
        out, h_n = reference(PROBLEM)(*mine.values())
        x_lib = x.clone().requires_grad_(True)
        h0_lib = None if h0 is None else h0.clone()[None].requires_grad_(True)
        out_lib, h_lib = module(x_lib, h0_lib)
        torch.testing.assert_close(out, out_lib, rtol=1e-10, atol=1e-12, msg=case.name)
        torch.testing.assert_close(h_n, h_lib[0], rtol=1e-10, atol=1e-12, msg=case.name)
        if case.grad:
            upstream = torch.from_numpy(case.inputs["_upstream"]).double()
            out.backward(upstream)
            out_lib.backward(upstream)
            lib_grads = {"x": x_lib.grad, "h0": None if h0_lib is None else h0_lib.grad[0],
                         "W_ih": module.weight_ih_l0.grad, "W_hh": module.weight_hh_l0.grad,
                         "b_ih": module.bias_ih_l0.grad, "b_hh": module.bias_hh_l0.grad}
            for g in case.grad:
                torch.testing.assert_close(mine[g].grad, lib_grads[g], rtol=1e-9, atol=1e-12, msg=f"{case.name} {g}")
