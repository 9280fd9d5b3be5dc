"""flash-attention: the reference agrees with torch, stays within the memory bound, correct
variants pass, realistic bugs (numerical and memory) fail."""

from __future__ import annotations

import importlib

import pytest
import torch
import torch.nn.functional as F

from drillcli.harness import build_inputs
from tests.support import graders_check, assert_rejected, assert_within_half_tolerance, describe, reference, stored_cases

PROBLEM = "flash-attention"
grader = importlib.import_module("drillcli.graders.flash_attention")


def tiled(init="", update="", finish="acc / l[..., None]", causal_mask=None, skip="j > i + bq - 1", scale="math.sqrt(d)"):
    """The reference algorithm with pieces swapped out (the defaults are correct)."""
    update = update or """
            m_new = torch.maximum(m, s.amax(-1))
            p = torch.exp(s - m_new[..., None])
            alpha = torch.exp(m - m_new)
            l = alpha * l + p.sum(-1)
            acc = alpha[..., None] * acc + p @ vj
            m = m_new"""
    causal_mask = causal_mask or "(j + torch.arange(s.shape[-1]))[None, :] > (i + torch.arange(bq))[:, None]"
    return f"""
import math, torch
def flash_attention(q, k, v, block_q=64, block_k=64, causal=False):
    *lead, Lq, d = q.shape
    Lk, dv = k.shape[-2], v.shape[-1]
    blocks = []
    for i in range(0, Lq, block_q):
        qi = q[..., i:i + block_q, :]
        bq = qi.shape[-2]
        m = torch.full((*lead, bq), float("-inf"), dtype=q.dtype)
        l = torch.zeros(*lead, bq, dtype=q.dtype)
        acc = torch.zeros(*lead, bq, dv, dtype=q.dtype){init}
        for j in range(0, Lk, block_k):
            if causal and {skip}:
                break
            vj = v[..., j:j + block_k, :]
            s = qi @ k[..., j:j + block_k, :].transpose(-2, -1) / {scale}
            if causal:
                s = s.masked_fill({causal_mask}, float("-inf")){update}
        blocks.append({finish})
    return torch.cat(blocks, dim=-2)
"""


CORRECT = {
    "cat-blocks-default": tiled(),
    "log-sum-exp-running-state": """
import math, torch
def flash_attention(q, k, v, block_q=64, block_k=64, causal=False):
    Lq, Lk, d = q.shape[-2], k.shape[-2], q.shape[-1]
    out = torch.empty(*q.shape[:-1], v.shape[-1], dtype=q.dtype)
    for i in range(0, Lq, block_q):
        qi = q[..., i:i + block_q, :] * d ** -0.5
        lse = torch.full(qi.shape[:-1], -math.inf, dtype=q.dtype)
        o = torch.zeros(*qi.shape[:-1], v.shape[-1], dtype=q.dtype)
        for j in range(0, min(Lk, i + qi.shape[-2]) if causal else Lk, block_k):
            s = torch.einsum("...qd,...kd->...qk", qi, k[..., j:j + block_k, :])
            if causal:
                qpos = torch.arange(i, i + qi.shape[-2]).unsqueeze(-1)
                kpos = torch.arange(j, j + s.shape[-1])
                s = torch.where(kpos <= qpos, s, -math.inf)
            new = torch.logaddexp(lse, torch.logsumexp(s, dim=-1))
            o = o * torch.exp(lse - new).unsqueeze(-1) + torch.exp(s - new.unsqueeze(-1)) @ v[..., j:j + block_k, :]
            lse = new
        out[..., i:i + block_q, :] = o
    return out
""",
    "fa1-normalised-accumulator": """
import math, torch
def flash_attention(q, k, v, block_q=64, block_k=64, causal=False):
    d, Lq, Lk = q.shape[-1], q.shape[-2], k.shape[-2]
    out = []
    for i in range(0, Lq, block_q):
        qi = q[..., i:i + block_q, :]
        o = torch.zeros(*qi.shape[:-1], v.shape[-1], dtype=q.dtype)
        m = torch.full(qi.shape[:-1], -torch.inf, dtype=q.dtype)
        l = torch.zeros(qi.shape[:-1], dtype=q.dtype)
        for j in range(0, Lk, block_k):
            s = qi @ k[..., j:j + block_k, :].mT / math.sqrt(d)
            if causal:
                keep = torch.ones(qi.shape[-2], s.shape[-1], dtype=torch.bool).tril(diagonal=i - j)
                s = s.masked_fill(~keep, -torch.inf)
            mij = s.amax(-1).clamp(min=-1e30)          # a fully masked tile row: no NaN
            pij = torch.exp(s - mij[..., None])
            lij = pij.sum(-1)
            m_new = torch.maximum(m, mij)
            l_new = torch.exp(m - m_new) * l + torch.exp(mij - m_new) * lij
            o = ((l * torch.exp(m - m_new))[..., None] * o
                 + torch.exp(mij - m_new)[..., None] * (pij @ v[..., j:j + block_k, :])) / l_new[..., None]
            m, l = m_new, l_new
        out.append(o)
    return torch.cat(out, -2)
""",
    "per-head-loops-float64-accumulators": """
import math, torch
def flash_attention(q, k, v, block_q=64, block_k=64, causal=False):
    lead, (Lq, d), (Lk, dv) = q.shape[:-2], q.shape[-2:], v.shape[-2:]
    qf, kf, vf = (t.reshape(-1, *t.shape[-2:]).double() for t in (q, k, v))
    out = torch.zeros(qf.shape[0], Lq, dv, dtype=torch.float64)
    for b in range(qf.shape[0]):
        for i0 in range(0, Lq, block_q):
            i1 = min(i0 + block_q, Lq)
            m = torch.full((i1 - i0, 1), -math.inf, dtype=torch.float64)
            l = torch.zeros(i1 - i0, 1, dtype=torch.float64)
            acc = torch.zeros(i1 - i0, dv, dtype=torch.float64)
            for j0 in range(0, Lk, block_k):
                j1 = min(j0 + block_k, Lk)
                if causal and j0 >= i1:
                    continue
                s = qf[b, i0:i1] @ kf[b, j0:j1].T / math.sqrt(d)
                if causal:
                    rows = torch.arange(i0, i1).view(-1, 1)
                    cols = torch.arange(j0, j1).view(1, -1)
                    s[cols > rows] = -math.inf
                m_new = torch.max(m, s.max(dim=1, keepdim=True).values)
                p = (s - m_new).exp()
                l = l * (m - m_new).exp() + p.sum(dim=1, keepdim=True)
                acc = acc * (m - m_new).exp() + p @ vf[b, j0:j1]
                m = m_new
            out[b, i0:i1] = acc / l
    return out.reshape(*lead, Lq, dv).to(q.dtype)
""",
}

BUGS = {
    "accumulator-not-rescaled": tiled(update="""
            m_new = torch.maximum(m, s.amax(-1))
            p = torch.exp(s - m_new[..., None])
            l = torch.exp(m - m_new) * l + p.sum(-1)
            acc = acc + p @ vj
            m = m_new"""),
    "rescale-factor-inverted": tiled(update="""
            m_new = torch.maximum(m, s.amax(-1))
            p = torch.exp(s - m_new[..., None])
            alpha = torch.exp(m_new - m)
            l = alpha * l + p.sum(-1)
            acc = alpha[..., None] * acc + p @ vj
            m = m_new"""),
    "softmax-per-tile-then-average": tiled(init="\n        n = 0", update="""
            acc = acc + torch.nan_to_num(torch.softmax(s, -1)) @ vj
            n += 1""", finish="acc / n"),
    "no-running-max": tiled(update="""
            p = torch.exp(s)
            l = l + p.sum(-1)
            acc = acc + p @ vj"""),
    "causal-mask-local-indices": tiled(causal_mask="torch.ones(bq, s.shape[-1], dtype=torch.bool).triu(1)"),
    "causal-skip-from-block-start": tiled(skip="j > i"),
    "scale-by-dv": tiled(scale="math.sqrt(dv)"),
    "plain-attention-full-scores": """
import math, torch
def flash_attention(q, k, v, block_q=64, block_k=64, causal=False):
    s = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if causal:
        s = s.masked_fill(torch.ones(s.shape[-2:], dtype=torch.bool).triu(1), float("-inf"))
    return torch.softmax(s, -1) @ v
""",
    "query-blocks-only-full-key-rows": """
import math, torch
def flash_attention(q, k, v, block_q=64, block_k=64, causal=False):
    outs = []
    for i in range(0, q.shape[-2], block_q):
        s = q[..., i:i + block_q, :] @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
        if causal:
            rows = torch.arange(i, i + s.shape[-2])[:, None]
            s = s.masked_fill(torch.arange(k.shape[-2])[None, :] > rows, float("-inf"))
        outs.append(torch.softmax(s, -1) @ v)
    return torch.cat(outs, -2)
""",
    "full-causal-mask-precomputed": tiled(
        init="\n        full = torch.ones(Lq, Lk, dtype=torch.bool).tril()",
        causal_mask="~full[i:i + bq, j:j + block_k]"),
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


@pytest.mark.parametrize("name", ["plain-attention-full-scores", "query-blocks-only-full-key-rows",
                                  "full-causal-mask-precomputed"])
def test_memory_bugs_fail_on_the_memory_check(grade_source, name):
    verdict = grade_source(PROBLEM, BUGS[name])
    failed = [c for c in verdict.cases if not c.passed]
    assert failed and all(c.name.startswith("memory-") and c.message.startswith("memory:") for c in failed), describe(verdict)


def test_fused_kernel_through_torch_ops_is_forbidden(grade_source):
    # not visible to the static scan or the Python-level guard: the dispatch mode sees it
    verdict = grade_source(PROBLEM, """
import torch
def flash_attention(q, k, v, block_q=64, block_k=64, causal=False):
    return torch.ops.aten._scaled_dot_product_flash_attention_for_cpu(q, k, v, is_causal=causal)[0]
""")
    assert verdict.status == "forbidden", describe(verdict)


def test_reference_matches_torch_and_the_memory_bound_on_every_case():
    for case in stored_cases(PROBLEM):
        args, _, _ = build_inputs(case)
        q, k, v, block_q, block_k, causal = args
        out = reference(PROBLEM)(*args)
        expected = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
        torch.testing.assert_close(out, expected, msg=case.name)
        torch.testing.assert_close(torch.from_numpy(case.outputs["out"]), expected, msg=case.name)
        if case.inputs.get("_memory_check"):
            limit = grader.memory_limit(case)
            assert int(case.outputs["peak_elems"]) <= limit, case.name
            # the limit is far below what a score matrix or a row of tiles needs
            lead = q.numel() // (q.shape[-2] * q.shape[-1])
            assert limit < lead * min(block_q, q.shape[-2]) * k.shape[-2], case.name
            assert limit < lead * q.shape[-2] * min(block_k, k.shape[-2]), case.name


def test_memory_check_is_real():
    """The grader's run records the (Lq, Lk) matrix of plain attention."""
    case = next(c for c in stored_cases(PROBLEM) if c.name == "memory-256")

    def plain(q, k, v, block_q, block_k, causal):
        return torch.softmax(q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5, -1) @ v

    got = grader.run(plain, "function", case, list(grader.RETURNS))
    assert got["peak_elems"] == 256 * 256
    message = graders_check(PROBLEM, case, {"out": got["out"].numpy(), "peak_elems": got["peak_elems"]})
    assert message and message.startswith("memory:")
