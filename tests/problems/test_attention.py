"""attention: the reference agrees with torch, correct variants pass, realistic bugs fail."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from drillcli.harness import build_inputs
from tests.support import assert_near_miss, assert_rejected, assert_within_half_tolerance, describe, reference, stored_cases

PROBLEM = "attention"

CORRECT = {
    "einsum": """
        import math, torch
        def scaled_dot_product_attention(q, k, v, mask=None):
            s = torch.einsum("...qd,...kd->...qk", q, k) / math.sqrt(q.shape[-1])
            if mask is not None:
                s = s.masked_fill(~mask.bool(), float("-inf"))
            w = s.softmax(-1)
            return torch.einsum("...qk,...kv->...qv", w, v), w
    """,
    "scale-q-first-manual-softmax": """
        import torch
        def scaled_dot_product_attention(q, k, v, mask=None):
            q = q * q.shape[-1] ** -0.5
            s = q @ k.transpose(-1, -2)
            if mask is not None:
                s = torch.where(mask != 0, s, torch.finfo(s.dtype).min)
            s = s - s.amax(dim=-1, keepdim=True)
            e = torch.exp(s)
            if mask is not None:
                e = e * (mask != 0)
            w = e / e.sum(dim=-1, keepdim=True)
            return torch.matmul(w, v), w
    """,
    "float64-intermediates-rsqrt": """
        import torch
        def scaled_dot_product_attention(q, k, v, mask=None):
            dt = q.dtype
            q, k, v = q.double(), k.double(), v.double()
            s = (q @ k.mT) * torch.rsqrt(torch.tensor(float(q.size(-1)), dtype=torch.float64))
            if mask is not None:
                s = s.masked_fill(mask == 0, -torch.inf)
            w = torch.softmax(s, dim=-1)
            return (w @ v).to(dt), w.to(dt)
    """,
    "loops-over-rows": """
        import math, torch
        def scaled_dot_product_attention(q, k, v, mask=None):
            lead = q.shape[:-2]
            if mask is not None:
                mask = torch.broadcast_to(mask != 0, lead + (q.shape[-2], k.shape[-2]))
            qf, kf, vf = (t.reshape(-1, *t.shape[-2:]) for t in (q, k, v))
            mf = None if mask is None else mask.reshape(-1, *mask.shape[-2:])
            outs, ws = [], []
            for b in range(qf.shape[0]):
                rows_o, rows_w = [], []
                for i in range(qf.shape[1]):
                    s = kf[b] @ qf[b, i] / math.sqrt(q.shape[-1])
                    if mf is not None:
                        s = s.masked_fill(~mf[b, i], float("-inf"))
                    w = torch.softmax(s, dim=0)
                    rows_w.append(w)
                    rows_o.append(w @ vf[b])
                outs.append(torch.stack(rows_o))
                ws.append(torch.stack(rows_w))
            out = torch.stack(outs).reshape(*lead, q.shape[-2], v.shape[-1])
            return out, torch.stack(ws).reshape(*lead, q.shape[-2], k.shape[-2])
    """,
    "baddbmm-additive-mask-minus-1e9": """
        import math, torch
        def scaled_dot_product_attention(q, k, v, mask=None):
            *lead, Lq, d = q.shape
            Lk, dv = k.shape[-2], v.shape[-1]
            q3, k3, v3 = q.reshape(-1, Lq, d), k.reshape(-1, Lk, d), v.reshape(-1, Lk, dv)
            bias = torch.zeros(q3.shape[0], Lq, Lk, dtype=q.dtype)
            if mask is not None:
                m = torch.broadcast_to(mask, (*lead, Lq, Lk)).reshape(-1, Lq, Lk)
                bias = bias.masked_fill(m == 0, -1e9)
            s = torch.baddbmm(bias, q3, k3.transpose(1, 2), alpha=1.0 / math.sqrt(d))
            w = torch.softmax(s, dim=-1)
            return torch.bmm(w, v3).reshape(*lead, Lq, dv), w.reshape(*lead, Lq, Lk)
    """,
    "numpy-float64-inside": """
        import numpy as np, torch
        def scaled_dot_product_attention(q, k, v, mask=None):
            Q, K, V = (t.detach().numpy().astype(np.float64) for t in (q, k, v))
            s = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])
            if mask is not None:
                s = np.where(np.asarray(mask) != 0, s, -np.inf)
            e = np.exp(s - s.max(axis=-1, keepdims=True))
            w = e / e.sum(axis=-1, keepdims=True)
            return torch.from_numpy(w @ V).to(q.dtype), torch.from_numpy(w).to(q.dtype)
    """,
    "logsumexp-finfo-min": """
        import torch
        def scaled_dot_product_attention(q, k, v, mask=None):
            s = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / q.size(-1) ** 0.5)
            if mask is not None:
                s = torch.where(mask.bool(), s, torch.tensor(torch.finfo(s.dtype).min, dtype=s.dtype))
            w = torch.exp(s - torch.logsumexp(s, dim=-1, keepdim=True))
            return w @ v, w
    """,
    "keepdim-false-then-unsqueeze": """
        import math, torch
        def scaled_dot_product_attention(q, k, v, mask=None):
            s = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
            if mask is not None:
                s = s.masked_fill(mask == 0, float("-inf"))
            e = (s - s.max(dim=-1).values.unsqueeze(-1)).exp()
            w = e / e.sum(dim=-1).unsqueeze(-1)
            return w @ v, w
    """,
    "in-place-ops": """
        import math, torch
        def scaled_dot_product_attention(q, k, v, mask=None):
            s = torch.matmul(q, k.transpose(-2, -1))
            s.div_(math.sqrt(q.shape[-1]))
            if mask is not None:
                s.masked_fill_(mask.logical_not(), -math.inf)
            s.sub_(s.amax(-1, keepdim=True)).exp_()
            s.div_(s.sum(-1, keepdim=True))
            return s @ v, s
    """,
    "scale-split-between-q-and-k": """
        import torch
        import torch.nn.functional as F
        def scaled_dot_product_attention(q, k, v, mask=None):
            c = q.shape[-1] ** -0.25
            s = (q * c) @ (k * c).transpose(-2, -1)
            if mask is not None:
                s = s.masked_fill(~mask.to(torch.bool), float("-inf"))
            w = F.softmax(s, dim=-1)
            return w @ v, w
    """,
}

BUGS = {
    "no-scale": """
        import torch
        def scaled_dot_product_attention(q, k, v, mask=None):
            s = q @ k.transpose(-2, -1)
            if mask is not None:
                s = s.masked_fill(mask == 0, float("-inf"))
            w = torch.softmax(s, dim=-1)
            return w @ v, w
    """,
    "scale-by-dv": """
        import math, torch
        def scaled_dot_product_attention(q, k, v, mask=None):
            s = q @ k.transpose(-2, -1) / math.sqrt(v.shape[-1])
            if mask is not None:
                s = s.masked_fill(mask == 0, float("-inf"))
            w = torch.softmax(s, dim=-1)
            return w @ v, w
    """,
    "softmax-wrong-axis": """
        import math, torch
        def scaled_dot_product_attention(q, k, v, mask=None):
            s = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
            if mask is not None:
                s = s.masked_fill(mask == 0, float("-inf"))
            w = torch.softmax(s, dim=-2)
            return w @ v, w
    """,
    "mask-polarity-flipped": """
        import math, torch
        def scaled_dot_product_attention(q, k, v, mask=None):
            s = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
            if mask is not None:
                s = s.masked_fill(mask != 0, float("-inf"))
            w = torch.nan_to_num(torch.softmax(s, dim=-1))
            return w @ v, w
    """,
    "mask-filled-with-zero": """
        import math, torch
        def scaled_dot_product_attention(q, k, v, mask=None):
            s = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
            if mask is not None:
                s = s.masked_fill(mask == 0, 0.0)
            w = torch.softmax(s, dim=-1)
            return w @ v, w
    """,
    "weights-transposed": """
        import math, torch
        def scaled_dot_product_attention(q, k, v, mask=None):
            s = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
            if mask is not None:
                s = s.masked_fill(mask == 0, float("-inf"))
            w = torch.softmax(s, dim=-1)
            return w @ v, w.transpose(-2, -1)
    """,
    "naive-exp-overflows": """
        import math, torch
        def scaled_dot_product_attention(q, k, v, mask=None):
            s = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
            e = torch.exp(s)
            if mask is not None:
                e = e * (mask != 0)
            w = e / e.sum(-1, keepdim=True)
            return w @ v, w
    """,
    "returns-float64": """
        import math, torch
        def scaled_dot_product_attention(q, k, v, mask=None):
            q, k, v = q.double(), k.double(), v.double()
            s = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
            if mask is not None:
                s = s.masked_fill(mask == 0, float("-inf"))
            w = torch.softmax(s, dim=-1)
            return w @ v, w
    """,
    "scale-operator-precedence": """
        import torch
        def scaled_dot_product_attention(q, k, v, mask=None):
            s = q @ k.transpose(-2, -1) / q.shape[-1] ** 1/2
            if mask is not None:
                s = s.masked_fill(mask == 0, float("-inf"))
            w = torch.softmax(s, -1)
            return w @ v, w
    """,
    "scale-by-key-length": """
        import math, torch
        def scaled_dot_product_attention(q, k, v, mask=None):
            s = q @ k.transpose(-2, -1) / math.sqrt(k.shape[-2])
            if mask is not None:
                s = s.masked_fill(mask == 0, float("-inf"))
            w = torch.softmax(s, -1)
            return w @ v, w
    """,
    "mask-applied-after-softmax": """
        import math, torch
        def scaled_dot_product_attention(q, k, v, mask=None):
            w = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), -1)
            if mask is not None:
                w = w * (mask != 0)
            return w @ v, w
    """,
    "returns-unmasked-weights": """
        import math, torch
        def scaled_dot_product_attention(q, k, v, mask=None):
            raw = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
            s = raw if mask is None else raw.masked_fill(mask == 0, float("-inf"))
            return torch.softmax(s, -1) @ v, torch.softmax(raw, -1)
    """,
    "global-max-instead-of-row-max": """
        import math, torch
        def scaled_dot_product_attention(q, k, v, mask=None):
            s = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
            if mask is not None:
                s = s.masked_fill(mask == 0, float("-inf"))
            e = torch.exp(s - s.max())
            w = e / e.sum(-1, keepdim=True)
            return w @ v, w
    """,
    "mask-filled-with-small-negative": """
        import math, torch
        def scaled_dot_product_attention(q, k, v, mask=None):
            s = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
            if mask is not None:
                s = s.masked_fill(mask == 0, -10.0)
            w = torch.softmax(s, -1)
            return w @ v, w
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


def test_reference_matches_torch_on_every_case():
    for case in stored_cases(PROBLEM):
        args, _, _ = build_inputs(case)
        out, weights = reference(PROBLEM)(*args)
        q, k, v, *mask = args
        attn_mask = (mask[0] != 0) if mask else None
        expected = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
        torch.testing.assert_close(out, expected, msg=case.name)
        torch.testing.assert_close(weights.sum(-1), torch.ones_like(weights.sum(-1)), msg=case.name)


# files written in another convention: each verdict names it
NEAR_MISSES = {
    "unscaled": BUGS["no-scale"],
    "scale-by-dv": BUGS["scale-by-dv"],
    "softmax-over-queries": BUGS["softmax-wrong-axis"],
    "mask-inverted": BUGS["mask-polarity-flipped"].replace("torch.nan_to_num(torch.softmax(s, dim=-1))", "torch.softmax(s, dim=-1)"),
}


@pytest.mark.parametrize("variant", NEAR_MISSES)
def test_near_misses_are_named(grade_source, variant):
    assert_near_miss(grade_source(PROBLEM, NEAR_MISSES[variant]), PROBLEM, variant)
