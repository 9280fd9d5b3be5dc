"""embeddings: the reference agrees with F.embedding / nn.Embedding (values and table
gradients) on every stored case; correct variants pass, realistic bugs fail."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from drillcli.harness import build_inputs
from drillcli.solutions.embeddings import Embeddings
from tests.support import assert_rejected, assert_within_half_tolerance, describe, stored_cases

PROBLEM = "embeddings"

HEADER = "import math\nimport torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"
INIT = """
class Embeddings(nn.Module):
    def __init__(self, vocab_size, max_len, d_model):
        super().__init__()
        self.tok_emb = nn.Parameter(torch.randn(vocab_size, d_model) * 0.02)
        self.pos_emb = nn.Parameter(torch.randn(max_len, d_model) * 0.02)
"""


def source(forward: str, init: str = INIT) -> str:
    return HEADER + init + forward


CORRECT = {
    "arange-positions": source("""
    def forward(self, idx, start_pos=0):
        B, L = idx.shape
        pos = torch.arange(start_pos, start_pos + L, device=idx.device)     # (L,)
        return self.tok_emb[idx] + self.pos_emb[pos].unsqueeze(0)
"""),
    "one-hot-matmul": source("""
    def forward(self, idx, start_pos=0):
        V, d = self.tok_emb.shape
        onehot = (idx.unsqueeze(-1) == torch.arange(V)).to(self.tok_emb.dtype)   # (B, L, V)
        pos = self.pos_emb.narrow(0, start_pos, idx.shape[1])                    # (L, d)
        return onehot @ self.tok_emb + pos
"""),
    "index-select-flatten": source("""
    def forward(self, idx, start_pos=0):
        B, L = idx.shape
        d = self.tok_emb.shape[1]
        tok = torch.index_select(self.tok_emb, 0, idx.reshape(-1)).view(B, L, d)
        pos = torch.index_select(self.pos_emb, 0, torch.arange(L) + start_pos)
        return tok + pos.expand(B, L, d)
"""),
    "gather-with-expanded-index": source("""
    def forward(self, idx, start_pos=0):
        B, L = idx.shape
        V, d = self.tok_emb.shape
        flat = idx.contiguous().view(-1, 1).expand(-1, d)                        # (B*L, d)
        tok = torch.gather(self.tok_emb, 0, flat).view(B, L, d)
        out = tok.clone()
        for j in range(L):
            out[:, j] = out[:, j] + self.pos_emb[start_pos + j]
        return out
"""),
}

BUGS = {
    "ignores-start-pos": source("""
    def forward(self, idx, start_pos=0):
        L = idx.shape[1]
        return self.tok_emb[idx] + self.pos_emb[:L]
"""),
    "positions-start-at-one": source("""
    def forward(self, idx, start_pos=0):
        L = idx.shape[1]
        return self.tok_emb[idx] + self.pos_emb[start_pos + 1:start_pos + L + 1]
"""),
    "position-table-indexed-by-token-ids": source("""
    def forward(self, idx, start_pos=0):
        return self.tok_emb[idx] + self.pos_emb[idx % self.pos_emb.shape[0]]
"""),
    "scaled-by-sqrt-d": source("""
    def forward(self, idx, start_pos=0):
        L = idx.shape[1]
        return self.tok_emb[idx] * math.sqrt(self.tok_emb.shape[1]) + self.pos_emb[start_pos:start_pos + L]
"""),
    "positions-over-batch-axis": source("""
    def forward(self, idx, start_pos=0):
        B, L = idx.shape
        pos = self.pos_emb[start_pos:start_pos + L]
        return self.tok_emb[idx] + pos[:B].mean(0)
"""),
    "tables-detached": source("""
    def forward(self, idx, start_pos=0):
        L = idx.shape[1]
        return self.tok_emb.data[idx] + self.pos_emb.data[start_pos:start_pos + L]
"""),
    "token-table-transposed-lookup": source("""
    def forward(self, idx, start_pos=0):
        L = idx.shape[1]
        # looks up columns of a (d, V) view: only correct if the table were stored transposed
        tok = self.tok_emb.T.reshape(self.tok_emb.shape)[idx]
        return tok + self.pos_emb[start_pos:start_pos + L]
"""),
}


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass_within_half_tolerance(grade_source, name):
    verdict = grade_source(PROBLEM, CORRECT[name])
    assert_within_half_tolerance(verdict)


@pytest.mark.parametrize("name", BUGS)
def test_bugs_fail(grade_source, name):
    verdict = grade_source(PROBLEM, BUGS[name])
    assert_rejected(verdict)
    if name == "tables-detached":   # no autograd graph: reported as a wrong return on the gradient cases
        assert verdict.status == "wrong_return", describe(verdict)
    elif name == "positions-start-at-one":   # wrong values, and the slice runs off the table when L = max_len
        assert verdict.status == "error" and any(c.status == "fail" for c in verdict.cases), describe(verdict)
    else:
        assert verdict.status == "failed", describe(verdict)


def test_buffers_instead_of_parameters_are_reported(grade_source):
    verdict = grade_source(PROBLEM, source("""
    def forward(self, idx, start_pos=0):
        return self.tok_emb[idx] + self.pos_emb[start_pos:start_pos + idx.shape[1]]
""", init=INIT.replace("self.tok_emb = nn.Parameter(torch.randn(vocab_size, d_model) * 0.02)",
                       "self.register_buffer('tok_emb', torch.randn(vocab_size, d_model))")))
    assert not verdict.ok and any("must be an nn.Parameter" in (c.message or "") for c in verdict.cases), \
        describe(verdict)


def test_nn_embedding_is_forbidden(grade_source):
    verdict = grade_source(PROBLEM, HEADER + """
class Embeddings(nn.Module):
    def __init__(self, vocab_size, max_len, d_model):
        super().__init__()
        self.tok_emb = nn.Parameter(torch.randn(vocab_size, d_model))
        self.pos_emb = nn.Parameter(torch.randn(max_len, d_model))

    def forward(self, idx, start_pos=0):
        return F.embedding(idx, self.tok_emb) + self.pos_emb[start_pos:start_pos + idx.shape[1]]
""")
    assert verdict.status == "forbidden", describe(verdict)


def test_reference_matches_torch_on_every_case():
    cases = stored_cases(PROBLEM)
    assert len(cases) >= 20
    for case in cases:
        args, named, state = build_inputs(case)
        idx, start = args[0], (args[1] if len(args) > 1 else 0)
        dtype = state["tok_emb"].dtype
        ours = Embeddings(**case.init).to(dtype)
        ours.load_state_dict(state)
        tok = nn.Embedding(*state["tok_emb"].shape, dtype=dtype)
        pos = nn.Embedding(*state["pos_emb"].shape, dtype=dtype)
        tok.weight.data.copy_(state["tok_emb"])
        pos.weight.data.copy_(state["pos_emb"])
        positions = torch.arange(start, start + idx.shape[1])
        lib = tok(idx) + pos(positions)
        got = ours(idx)
        if start:
            got = ours(idx, start)
        torch.testing.assert_close(got, lib, rtol=0, atol=0, msg=case.name)
        torch.testing.assert_close(got, F.embedding(idx, state["tok_emb"]) + F.embedding(positions, state["pos_emb"]),
                                   rtol=0, atol=0, msg=case.name)
        torch.testing.assert_close(got.detach(), torch.from_numpy(case.outputs["out"]), rtol=0, atol=0, msg=case.name)
        if "_upstream" in named:
            up = named["_upstream"]
            got.backward(up)
            lib.backward(up)
            torch.testing.assert_close(ours.tok_emb.grad, tok.weight.grad, msg=case.name)
            torch.testing.assert_close(ours.pos_emb.grad, pos.weight.grad, msg=case.name)
            torch.testing.assert_close(ours.tok_emb.grad, torch.from_numpy(case.outputs["grad_tok_emb"]), msg=case.name)
