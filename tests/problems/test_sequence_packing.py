"""sequence-packing: the reference agrees with an independent construction and its mask makes
torch's scaled_dot_product_attention on packed rows equal attention on each document piece
separately; correct variants pass, realistic bugs fail."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from drillcli.graders.sequence_packing import run
from tests.support import assert_rejected, assert_within_half_tolerance, describe, mutate, reference, stored_cases

PROBLEM = "sequence-packing"

CORRECT = {
    "python-loops": """
        import torch
        def pack_sequences(seqs, row_len, eos_id, pad_id):
            stream = []
            for i, s in enumerate(seqs):
                for t in list(s) + [eos_id]:
                    stream.append((t, i))
            while len(stream) % row_len:
                stream.append((pad_id, -1))
            rows = [stream[k:k + row_len] for k in range(0, len(stream), row_len)]
            tokens, docs, pos, mask = [], [], [], []
            for row in rows:
                tokens.append([t for t, _ in row])
                docs.append([d for _, d in row])
                p, prev = [], None
                for c, (_, d) in enumerate(row):
                    p.append(0 if d == -1 or d != prev else p[-1] + 1)
                    prev = d
                pos.append(p)
                mask.append([[j <= i and row[i][1] == row[j][1] for j in range(row_len)] for i in range(row_len)])
            R = len(rows)
            return (torch.tensor(tokens, dtype=torch.long).reshape(R, row_len),
                    torch.tensor(docs, dtype=torch.long).reshape(R, row_len),
                    torch.tensor(pos, dtype=torch.long).reshape(R, row_len),
                    torch.tensor(mask, dtype=torch.bool).reshape(R, row_len, row_len))
    """,
    "numpy-vectorised": """
        import numpy as np
        import torch
        def pack_sequences(seqs, row_len, eos_id, pad_id):
            toks = np.array([t for s in seqs for t in list(s) + [eos_id]], dtype=np.int64)
            docs = np.repeat(np.arange(len(seqs)), [len(s) + 1 for s in seqs]).astype(np.int64)
            R = (len(toks) + row_len - 1) // row_len
            pad = R * row_len - len(toks)
            toks = np.concatenate([toks, np.full(pad, pad_id, dtype=np.int64)]).reshape(R, row_len)
            docs = np.concatenate([docs, np.full(pad, -1, dtype=np.int64)]).reshape(R, row_len)
            pos = np.zeros_like(docs)
            for c in range(1, row_len):
                pos[:, c] = np.where(docs[:, c] == docs[:, c - 1], pos[:, c - 1] + 1, 0)
            pos[docs < 0] = 0
            tri = np.tril(np.ones((row_len, row_len), dtype=bool))
            mask = (docs[:, :, None] == docs[:, None, :]) & tri
            return tuple(torch.from_numpy(np.ascontiguousarray(a)) for a in (toks, docs, pos, mask))
    """,
    "torch-cat-and-pad": """
        import torch
        import torch.nn.functional as F
        def pack_sequences(seqs, row_len, eos_id, pad_id):
            parts = [torch.tensor(list(s) + [eos_id], dtype=torch.long) for s in seqs]
            ids = [torch.full((len(s) + 1,), i, dtype=torch.long) for i, s in enumerate(seqs)]
            stream = torch.cat(parts) if parts else torch.zeros(0, dtype=torch.long)
            doc = torch.cat(ids) if ids else torch.zeros(0, dtype=torch.long)
            extra = (-len(stream)) % row_len
            tokens = F.pad(stream, (0, extra), value=pad_id).reshape(-1, row_len)
            doc_ids = F.pad(doc, (0, extra), value=-1).reshape(-1, row_len)
            pos = torch.zeros_like(doc_ids)
            for c in range(1, row_len):
                same = doc_ids[:, c] == doc_ids[:, c - 1]
                pos[:, c] = torch.where(same & (doc_ids[:, c] >= 0), pos[:, c - 1] + 1, 0)
            mask = (doc_ids.unsqueeze(2) == doc_ids.unsqueeze(1)) & torch.tril(torch.ones(row_len, row_len)).bool()
            return tokens, doc_ids, pos, mask
    """,
}

_TAIL = """
    R = -(-len(stream) // row_len)
    n_pad = R * row_len - len(stream)
    tokens = torch.tensor(stream + [pad_id] * n_pad, dtype=torch.long).view(R, row_len)
    doc_ids = torch.tensor(docs + [-1] * n_pad, dtype=torch.long).view(R, row_len)
    pos = torch.zeros_like(doc_ids)
    for c in range(1, row_len):
        pos[:, c] = torch.where((doc_ids[:, c] == doc_ids[:, c - 1]) & (doc_ids[:, c] >= 0), pos[:, c - 1] + 1, 0)
    mask = (doc_ids[:, :, None] == doc_ids[:, None, :]) & torch.ones(row_len, row_len, dtype=torch.bool).tril()
    return tokens, doc_ids, pos, mask
"""

_STREAM = """
import torch
def pack_sequences(seqs, row_len, eos_id, pad_id):
    stream, docs = [], []
    for i, s in enumerate(seqs):
        stream += list(s) + [eos_id]
        docs += [i] * (len(s) + 1)
"""

BUGS = {
    "no-eos": """
import torch
def pack_sequences(seqs, row_len, eos_id, pad_id):
    stream, docs = [], []
    for i, s in enumerate(seqs):
        stream += list(s)
        docs += [i] * len(s)
""" + _TAIL,
    "eos-before-each-document": """
import torch
def pack_sequences(seqs, row_len, eos_id, pad_id):
    stream, docs = [], []
    for i, s in enumerate(seqs):
        stream += [eos_id] + list(s)
        docs += [i] * (len(s) + 1)
""" + _TAIL,
    "eos-marked-as-padding": """
import torch
def pack_sequences(seqs, row_len, eos_id, pad_id):
    stream, docs = [], []
    for i, s in enumerate(seqs):
        stream += list(s) + [eos_id]
        docs += [i] * len(s) + [-1]
""" + _TAIL,
    "positions-continue-across-rows": _STREAM + """
    R = -(-len(stream) // row_len)
    n_pad = R * row_len - len(stream)
    tokens = torch.tensor(stream + [pad_id] * n_pad, dtype=torch.long).view(R, row_len)
    doc_ids = torch.tensor(docs + [-1] * n_pad, dtype=torch.long).view(R, row_len)
    flat, p = [], 0
    for k, d in enumerate(docs):
        p = p + 1 if k and docs[k - 1] == d else 0
        flat.append(p)
    pos = torch.tensor(flat + [0] * n_pad, dtype=torch.long).view(R, row_len)
    mask = (doc_ids[:, :, None] == doc_ids[:, None, :]) & torch.ones(row_len, row_len, dtype=torch.bool).tril()
    return tokens, doc_ids, pos, mask
""",
    "mask-not-causal": _STREAM + _TAIL.replace(" & torch.ones(row_len, row_len, dtype=torch.bool).tril()", ""),
    "mask-ignores-documents": _STREAM + _TAIL.replace(
        "(doc_ids[:, :, None] == doc_ids[:, None, :]) & torch.ones", "torch.ones").replace(
        ".tril()\n", ".tril().expand(R, row_len, row_len)\n"),
    "drops-the-last-partial-row": _STREAM + _TAIL.replace("R = -(-len(stream) // row_len)", "R = len(stream) // row_len").replace(
        "n_pad = R * row_len - len(stream)", "n_pad = 0; stream, docs = stream[:R * row_len], docs[:R * row_len]"),
    "pads-with-eos": _STREAM + _TAIL.replace("stream + [pad_id] * n_pad", "stream + [eos_id] * n_pad"),
}
# 0 is an id like any other: neither eos_id = 0 nor pad_id = 0 means "none"
BUGS["eos-id-zero-taken-as-no-eos"] = mutate(CORRECT["python-loops"],
                                             ("list(s) + [eos_id]", "list(s) + ([eos_id] if eos_id else [])"))
BUGS["pad-id-zero-falls-back-to-eos"] = mutate(CORRECT["python-loops"],
                                               ("stream.append((pad_id, -1))", "stream.append((pad_id or eos_id, -1))"))


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass_within_half_tolerance(grade_source, name):
    assert_within_half_tolerance(grade_source(PROBLEM, CORRECT[name]))


@pytest.mark.parametrize("name", BUGS)
def test_bugs_fail(grade_source, name):
    verdict = grade_source(PROBLEM, BUGS[name])
    assert verdict.status == "failed", describe(verdict)
    assert_rejected(verdict)


def test_prompt_example():
    tokens, doc_ids, pos, mask = reference(PROBLEM)([[5, 6, 7], [8, 9], [10, 11, 12, 13]], 5, 0, 1)
    assert tokens.tolist() == [[5, 6, 7, 0, 8], [9, 0, 10, 11, 12], [13, 0, 1, 1, 1]]
    assert doc_ids.tolist() == [[0, 0, 0, 0, 1], [1, 1, 2, 2, 2], [2, 2, -1, -1, -1]]
    assert pos.tolist() == [[0, 1, 2, 3, 0], [0, 1, 0, 1, 2], [0, 1, 0, 0, 0]]
    assert mask[1].int().tolist() == [[1, 0, 0, 0, 0], [1, 1, 0, 0, 0], [0, 0, 1, 0, 0], [0, 0, 1, 1, 0], [0, 0, 1, 1, 1]]


def test_reference_mask_gives_per_document_attention_on_every_case():
    """SDPA over a packed row with the reference mask == causal SDPA on each document piece alone."""
    g = torch.Generator().manual_seed(0)
    for case in stored_cases(PROBLEM):
        tokens, doc_ids, pos, mask = run(reference(PROBLEM), "function", case, ["t", "d", "p", "m"]).values()
        R, L = tokens.shape
        lengths = [int(n) for n in case.inputs["lengths"]]
        flat = [int(t) for t in case.inputs["flat"]]
        stream, docs, at = [], [], 0
        for i, n in enumerate(lengths):
            stream += flat[at:at + n] + [case.inputs["eos_id"]]
            docs += [i] * (n + 1)
            at += n
        assert tokens.reshape(-1)[: len(stream)].tolist() == stream, case.name
        assert doc_ids.reshape(-1)[: len(docs)].tolist() == docs, case.name
        assert (tokens.reshape(-1)[len(stream):] == case.inputs["pad_id"]).all(), case.name
        assert R == -(-len(stream) // L), case.name
        q, k, v = (torch.randn(R, 2, L, 8, generator=g, dtype=torch.float64) for _ in range(3))
        packed = F.scaled_dot_product_attention(q, k, v, attn_mask=mask[:, None])
        for r in range(R):
            c = 0
            while c < L:
                e = c
                while e < L and doc_ids[r, e] == doc_ids[r, c]:
                    e += 1
                assert pos[r, c:e].tolist() == (list(range(e - c)) if doc_ids[r, c] >= 0 else [0] * (e - c)), case.name
                alone = F.scaled_dot_product_attention(q[r, :, c:e], k[r, :, c:e], v[r, :, c:e], is_causal=True)
                torch.testing.assert_close(packed[r, :, c:e], alone, msg=case.name)
                c = e
