"""perplexity: the reference agrees with exp(F.cross_entropy(..., ignore_index)), correct variants pass, bugs fail."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from drillcli.harness import build_inputs
from tests.support import (assert_near_miss, assert_rejected, assert_within_half_tolerance, describe,
                           mutate, reference, stored_cases)

PROBLEM = "perplexity"

CORRECT = {
    "log-softmax-masked-select": """
        import torch
        def perplexity(logits, targets, pad_id):
            mask = targets != pad_id
            logp = torch.log_softmax(logits, dim=-1)
            tok = logp.gather(-1, targets.clamp(min=0, max=logits.shape[-1] - 1).unsqueeze(-1)).squeeze(-1)
            nll = torch.where(mask, -tok, torch.zeros_like(tok))
            ppl = torch.exp(nll[mask].mean())
            seq = torch.exp(nll.sum(1) / mask.sum(1))
            return ppl, seq
    """,
    "float64-loops": """
        import math, torch
        def perplexity(logits, targets, pad_id):
            B, T, V = logits.shape
            total, count, seqs = 0.0, 0, []
            for b in range(B):
                s, n = 0.0, 0
                for t in range(T):
                    y = int(targets[b, t])
                    if y == pad_id:
                        continue
                    row = logits[b, t].double()
                    m = row.max()
                    s += float(m + torch.log(torch.exp(row - m).sum()) - row[y])
                    n += 1
                seqs.append(math.exp(s / n))
                total += s
                count += n
            return (torch.tensor(math.exp(total / count), dtype=logits.dtype),
                    torch.tensor(seqs, dtype=logits.dtype))
    """,
    "sums-then-combine": """
        import torch
        def perplexity(logits, targets, pad_id):
            lse = torch.logsumexp(logits, -1)
            real = targets != pad_id
            picked = torch.gather(logits, 2, torch.where(real, targets, 0)[:, :, None])[:, :, 0]
            nll = (lse - picked).masked_fill(~real, 0.0)
            seq_sum, seq_len = nll.sum(-1), real.sum(-1)
            return (seq_sum.sum() / seq_len.sum()).exp(), (seq_sum / seq_len).exp()
    """,
    "one-hot-einsum": """
        import torch
        def perplexity(logits, targets, pad_id):
            V = logits.shape[-1]
            real = (targets != pad_id).to(logits.dtype)
            onehot = torch.nn.functional.one_hot(torch.where(targets != pad_id, targets, 0), V).to(logits.dtype)
            z = logits - logits.amax(-1, keepdim=True)
            logp = z - z.exp().sum(-1, keepdim=True).log()
            nll = -torch.einsum("btv,btv->bt", onehot, logp) * real
            return torch.exp(nll.sum() / real.sum()), torch.exp(nll.sum(1) / real.sum(1))
    """,
}

_NLL = """
import torch
def _nll(logits, targets, pad_id):
    mask = targets != pad_id
    logp = logits - torch.logsumexp(logits, -1, keepdim=True)
    nll = -logp.gather(-1, torch.where(mask, targets, 0)[..., None]).squeeze(-1) * mask
    return nll, mask
"""

BUGS = {
    "mean-of-sequence-perplexities": _NLL + """
def perplexity(logits, targets, pad_id):
    nll, mask = _nll(logits, targets, pad_id)
    seq = torch.exp(nll.sum(1) / mask.sum(1))
    return seq.mean(), seq
""",
    "sequence-weighted-mean-nll": _NLL + """
def perplexity(logits, targets, pad_id):
    nll, mask = _nll(logits, targets, pad_id)
    seq_nll = nll.sum(1) / mask.sum(1)
    return torch.exp(seq_nll.mean()), torch.exp(seq_nll)
""",
    "padding-counted": _NLL + """
def perplexity(logits, targets, pad_id):
    nll, mask = _nll(logits, targets, pad_id)
    return torch.exp(nll.mean()), torch.exp(nll.mean(1))
""",
    "shifts-again": """
import torch
def perplexity(logits, targets, pad_id):
    logits, targets = logits[:, :-1], targets[:, 1:]
    mask = targets != pad_id
    logp = logits - torch.logsumexp(logits, -1, keepdim=True)
    nll = -logp.gather(-1, torch.where(mask, targets, 0)[..., None]).squeeze(-1) * mask
    return torch.exp(nll.sum() / mask.sum()), torch.exp(nll.sum(1) / mask.sum(1).clamp(min=1))
""",
    "base-2-exponent": _NLL + """
def perplexity(logits, targets, pad_id):
    nll, mask = _nll(logits, targets, pad_id)
    return 2 ** (nll.sum() / mask.sum()), 2 ** (nll.sum(1) / mask.sum(1))
""",
    "pad-id-hard-coded-zero": """
import torch
def perplexity(logits, targets, pad_id):
    mask = targets != 0
    logp = logits - torch.logsumexp(logits, -1, keepdim=True)
    nll = -logp.gather(-1, targets.clamp(0, logits.shape[-1] - 1)[..., None]).squeeze(-1) * mask
    return torch.exp(nll.sum() / mask.sum()), torch.exp(nll.sum(1) / mask.sum(1))
""",
    "no-max-shift": """
import torch
def perplexity(logits, targets, pad_id):
    mask = targets != pad_id
    logp = logits - torch.log(torch.exp(logits).sum(-1, keepdim=True))
    nll = -logp.gather(-1, torch.where(mask, targets, 0)[..., None]).squeeze(-1) * mask
    return torch.exp(nll.sum() / mask.sum()), torch.exp(nll.sum(1) / mask.sum(1))
""",
}
# pad_id = 0 is a real pad id, not "no padding": `if pad_id` counts the padded positions
BUGS["pad-id-zero-taken-as-no-padding"] = mutate(
    CORRECT["log-softmax-masked-select"],
    ("mask = targets != pad_id", "mask = (targets != pad_id) if pad_id else torch.ones_like(targets, dtype=torch.bool)"))


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass_within_half_tolerance(grade_source, name):
    assert_within_half_tolerance(grade_source(PROBLEM, CORRECT[name]))


@pytest.mark.parametrize("name", BUGS)
def test_bugs_fail(grade_source, name):
    verdict = grade_source(PROBLEM, BUGS[name])
    assert verdict.status == "failed", describe(verdict)
    assert_rejected(verdict)


def test_reference_matches_torch_cross_entropy_on_every_case():
    for case in stored_cases(PROBLEM):
        logits, targets, pad_id = build_inputs(case)[0]
        logits = logits.double()
        ppl, seq_ppl = reference(PROBLEM)(logits, targets, pad_id)
        V = logits.shape[-1]
        lib_targets = torch.where(targets == pad_id, -100, targets)
        lib = torch.exp(F.cross_entropy(logits.reshape(-1, V), lib_targets.reshape(-1), ignore_index=-100))
        lib_seq = torch.stack([torch.exp(F.cross_entropy(logits[b], lib_targets[b], ignore_index=-100))
                               for b in range(logits.shape[0])])
        torch.testing.assert_close(ppl, lib, msg=case.name)
        torch.testing.assert_close(seq_ppl, lib_seq, msg=case.name)


NEAR_MISSES = {
    "base-2-of-nats": BUGS["base-2-exponent"],
}


@pytest.mark.parametrize("variant", NEAR_MISSES)
def test_near_misses_are_named(grade_source, variant):
    assert_near_miss(grade_source(PROBLEM, NEAR_MISSES[variant]), PROBLEM, variant)
