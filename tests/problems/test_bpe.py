"""bpe: the reference agrees with a naive minbpe-style trainer on every stored case (the
250 KB speed case excepted: the naive trainer is what it must reject), its encode and decode
equal tiktoken's over the same merges (tiktoken is a test-only dependency), correct incremental
variants pass (speed case included), realistic bugs fail, and a correct but quadratic
trainer is reported as too slow."""

from __future__ import annotations

import shutil
import textwrap
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from drillcli.catalog import Catalog
from drillcli.fixtures import load_cases, save_cases
from drillcli.graders import bpe as grader
from drillcli.runner import grade
from tests.support import assert_rejected, assert_within_half_tolerance, describe, mutate, stored_cases

PROBLEM = "bpe"

_ENCODE_DECODE = """
def encode(text, merges):
    rank = {tuple(p): r for r, p in enumerate(merges)}
    ids = list(text.encode("utf-8"))
    while len(ids) >= 2:
        best = min(zip(ids, ids[1:]), key=lambda p: rank.get(p, float("inf")))
        if best not in rank:
            break
        new, out, i = 256 + rank[best], [], 0
        while i < len(ids):
            if i + 1 < len(ids) and ids[i] == best[0] and ids[i + 1] == best[1]:
                out.append(new)
                i += 2
            else:
                out.append(ids[i])
                i += 1
        ids = out
    return ids


def decode(ids, vocab):
    return b"".join(vocab[i] for i in ids).decode("utf-8", errors="replace")
"""

CORRECT = {
    "sets-heap-dict-links": """
import heapq
from collections import defaultdict

def train_bpe(text, vocab_size):
    seq = list(text.encode("utf-8"))
    tok = dict(enumerate(seq))
    nxt = {i: i + 1 for i in range(len(seq) - 1)}
    prv = {i + 1: i for i in range(len(seq) - 1)}
    pos = defaultdict(set)
    for i in range(len(seq) - 1):
        pos[seq[i], seq[i + 1]].add(i)
    heap = [(-len(s), p) for p, s in pos.items()]
    heapq.heapify(heap)
    vocab = {i: bytes([i]) for i in range(256)}
    merges = []
    while len(vocab) < vocab_size:
        while heap and -heap[0][0] != len(pos.get(heap[0][1], ())):
            heapq.heappop(heap)
        if not heap or -heap[0][0] < 2:
            break
        pair = heap[0][1]
        new = len(vocab)
        touched = set()
        for i in sorted(pos[pair]):
            if i not in pos[pair]:
                continue
            j = nxt[i]
            k, h = nxt.get(j), prv.get(i)
            if h is not None:
                pos[tok[h], tok[i]].discard(h); pos[tok[h], new].add(h)
                touched |= {(tok[h], tok[i]), (tok[h], new)}
            if k is not None:
                pos[tok[j], tok[k]].discard(j); pos[new, tok[k]].add(i)
                touched |= {(tok[j], tok[k]), (new, tok[k])}
                nxt[i], prv[k] = k, i
            else:
                del nxt[i]
            pos[pair].discard(i)
            tok[i] = new
            del tok[j]
            nxt.pop(j, None); prv.pop(j, None)
        del pos[pair]
        for p in touched:
            if pos.get(p):
                heapq.heappush(heap, (-len(pos[p]), p))
        merges.append(pair)
        vocab[new] = vocab[pair[0]] + vocab[pair[1]]
    return vocab, merges
""" + _ENCODE_DECODE,
    "counts-and-linear-max-scan": """
from collections import defaultdict

def train_bpe(text, vocab_size):
    ids = list(text.encode("utf-8"))
    n = len(ids)
    nxt = list(range(1, n + 1)); nxt[-1:] = [-1] if n else []
    prv = list(range(-1, n - 1))
    cnt = defaultdict(int)
    where = defaultdict(set)
    for i in range(n - 1):
        cnt[ids[i], ids[i + 1]] += 1
        where[ids[i], ids[i + 1]].add(i)
    vocab = {i: bytes([i]) for i in range(256)}
    merges = []
    while len(vocab) < vocab_size and cnt:
        pair, c = max(cnt.items(), key=lambda kv: (kv[1], -kv[0][0], -kv[0][1]))
        if c < 2:
            break
        a, b = pair
        new = len(vocab)
        def dec(p, i):
            cnt[p] -= 1
            if cnt[p] == 0:
                del cnt[p]
            where[p].discard(i)
        def inc(p, i):
            cnt[p] += 1
            where[p].add(i)
        for i in sorted(where[pair]):
            j = nxt[i]
            if ids[i] != a or j < 0 or ids[j] != b:
                continue
            if prv[i] >= 0:
                dec((ids[prv[i]], a), prv[i]); inc((ids[prv[i]], new), prv[i])
            k = nxt[j]
            if k >= 0:
                dec((b, ids[k]), j); inc((new, ids[k]), i)
                prv[k] = i
            dec(pair, i)
            ids[i], ids[j], nxt[i] = new, -2, k
        merges.append(pair)
        vocab[new] = vocab[a] + vocab[b]
    return vocab, merges


def encode(text, merges):
    ids = list(text.encode("utf-8"))
    for r, (a, b) in enumerate(merges):          # rank order, whole sequence each time
        out, i = [], 0
        while i < len(ids):
            if i + 1 < len(ids) and ids[i] == a and ids[i + 1] == b:
                out.append(256 + r); i += 2
            else:
                out.append(ids[i]); i += 1
        ids = out
    return ids


def decode(ids, vocab):
    buf = bytearray()
    for i in ids:
        buf += vocab[i]
    return bytes(buf).decode("utf-8", "replace")
""",
    "versioned-heap-class": """
import heapq
from collections import Counter, defaultdict


class _Trainer:
    def __init__(self, text):
        self.ids = list(text.encode("utf-8"))
        n = len(self.ids)
        self.next = list(range(1, n)) + [-1] if n else []
        self.prev = list(range(-1, n - 1))
        self.count = Counter(zip(self.ids, self.ids[1:]))
        self.at = defaultdict(list)
        for i, p in enumerate(zip(self.ids, self.ids[1:])):
            self.at[p].append(i)
        self.heap = [(-c, p) for p, c in self.count.items()]
        heapq.heapify(self.heap)

    def best(self):
        while self.heap:
            c, p = self.heap[0]
            if -c == self.count[p]:
                return p, -c
            heapq.heappop(self.heap)
        return None, 0

    def bump(self, p, d, i, dirty):
        self.count[p] += d
        if d > 0:
            self.at[p].append(i)
        dirty.add(p)

    def merge(self, a, b, new):
        ids, dirty = self.ids, set()
        for i in sorted(set(self.at.pop((a, b)))):
            j = self.next[i]
            if ids[i] != a or j == -1 or ids[j] != b:
                continue
            p, q = self.prev[i], self.next[j]
            if p != -1:
                self.bump((ids[p], a), -1, p, dirty); self.bump((ids[p], new), 1, p, dirty)
            if q != -1:
                self.bump((b, ids[q]), -1, j, dirty); self.bump((new, ids[q]), 1, i, dirty)
                self.prev[q] = i
            self.count[a, b] -= 1
            ids[i], ids[j], self.next[i] = new, -1, q
        dirty.add((a, b))
        for p in dirty:
            if self.count[p] > 0:
                heapq.heappush(self.heap, (-self.count[p], p))


def train_bpe(text, vocab_size):
    t = _Trainer(text)
    vocab = {i: bytes([i]) for i in range(256)}
    merges = []
    for new in range(256, vocab_size):
        pair, c = t.best()
        if c < 2:
            break
        t.merge(*pair, new)
        merges.append(pair)
        vocab[new] = vocab[pair[0]] + vocab[pair[1]]
    return vocab, merges
""" + _ENCODE_DECODE,
}

NAIVE = """
from collections import Counter

def _merge(ids, pair, new):
    out, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair:
            out.append(new)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out

def train_bpe(text, vocab_size):
    ids = list(text.encode("utf-8"))
    vocab = {i: bytes([i]) for i in range(256)}
    merges = []
    while len(vocab) < vocab_size:
        stats = Counter(zip(ids, ids[1:]))
        if not stats:
            break
        pair = min(stats, key=lambda p: (-stats[p], p))
        if stats[pair] < 2:
            break
        new = len(vocab)
        ids = _merge(ids, pair, new)
        merges.append(pair)
        vocab[new] = vocab[pair[0]] + vocab[pair[1]]
    return vocab, merges
""" + _ENCODE_DECODE


def _bug(*pairs):
    return mutate(NAIVE, *pairs)


# value bugs, graded without the 250 KB speed case (they are all naive trainers)
BUGS = {
    "tie-by-first-occurrence": _bug(("pair = min(stats, key=lambda p: (-stats[p], p))",
                                     "pair = max(stats, key=stats.get)")),
    "tie-by-largest-pair": _bug(("pair = min(stats, key=lambda p: (-stats[p], p))",
                                 "pair = max(stats, key=lambda p: (stats[p], p))")),
    "non-overlapping-counts": _bug(("stats = Counter(zip(ids, ids[1:]))",
                                    "stats = Counter(p for k, p in enumerate(zip(ids, ids[1:])) "
                                    "if not (k and ids[k - 1] == ids[k] == ids[k + 1] and (k % 2))) ")),
    "merge-does-not-skip": _bug(("            out.append(new)\n            i += 2", "            out.append(new)\n            i += 1")),
    "merges-singleton-pairs": _bug(("        if stats[pair] < 2:\n            break\n", "")),
    "decode-token-by-token": _bug(('return b"".join(vocab[i] for i in ids).decode("utf-8", errors="replace")',
                                   'return "".join(vocab[i].decode("utf-8", errors="replace") for i in ids)')),
    "decode-errors-ignore": _bug(('decode("utf-8", errors="replace")', 'decode("utf-8", errors="ignore")')),
    "encode-first-match-by-position": _bug(
        ("        best = min(zip(ids, ids[1:]), key=lambda p: rank.get(p, float(\"inf\")))",
         "        best = next((p for p in zip(ids, ids[1:]) if p in rank), None)"),
        ("        if best not in rank:", "        if best is None:")),
    "encodes-characters-not-bytes": _bug(('    ids = list(text.encode("utf-8"))\n    while len(ids) >= 2:\n        best',
                                          '    ids = [ord(c) for c in text]\n    while len(ids) >= 2:\n        best')),
}


@pytest.fixture(scope="module")
def no_speed_catalog(tmp_path_factory) -> Catalog:
    """A catalog whose bpe fixture lacks the timed case (value bugs are naive trainers)."""
    root = tmp_path_factory.mktemp("bpe-root")
    real = Catalog()
    shutil.copytree(real.spec(PROBLEM).folder, root / "problems" / PROBLEM)
    catalog = Catalog(root)
    cases = [c for c in load_cases(real.fixture_path(real.spec(PROBLEM))) if not c.timed]
    save_cases(catalog.fixture_path(catalog.spec(PROBLEM)), PROBLEM, cases)
    return catalog


def _grade(catalog: Catalog, source: str, tmp_path: Path, name: str, worker):
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    return grade(catalog.spec(PROBLEM), path, catalog, worker=worker)


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass(grade_source, name):
    assert_within_half_tolerance(grade_source(PROBLEM, CORRECT[name]))


# ids above 255 (code points) crash decode with a KeyError on some cases, besides wrong ids elsewhere
EXPECTED_STATUS = {"encodes-characters-not-bytes": "error"}


@pytest.mark.parametrize("name", BUGS)
def test_bugs_fail(no_speed_catalog, tmp_path, name, warm_worker):
    verdict = _grade(no_speed_catalog, BUGS[name], tmp_path, name, warm_worker)
    want = EXPECTED_STATUS.get(name, "failed")
    assert verdict.status == want, describe(verdict)
    assert_rejected(verdict)


def test_naive_trainer_is_right_but_too_slow(grade_source):
    verdict = grade_source(PROBLEM, NAIVE)
    assert verdict.status == "too_slow", describe(verdict)
    slow = [c for c in verdict.cases if not c.passed]
    assert [c.name for c in slow] == ["speed-250kb"] and slow[0].kind == "too_slow", describe(verdict)


def _naive_train(text, vocab_size):
    ids, merges = list(text.encode("utf-8")), []
    vocab = {i: bytes([i]) for i in range(256)}
    while len(vocab) < vocab_size:
        stats = Counter(zip(ids, ids[1:]))
        if not stats or max(stats.values()) < 2:
            break
        pair = min(stats, key=lambda p: (-stats[p], p))
        new, out, i = len(vocab), [], 0
        while i < len(ids):
            if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair:
                out.append(new)
                i += 2
            else:
                out.append(ids[i])
                i += 1
        ids = out
        merges.append(pair)
        vocab[new] = vocab[pair[0]] + vocab[pair[1]]
    return vocab, merges, ids


def test_reference_matches_naive_trainer_on_every_case():
    for case in stored_cases(PROBLEM):
        mode = case.inputs["_mode"]
        if mode == "train":
            vocab, merges, _ = _naive_train(case.inputs["text"], case.inputs["vocab_size"])
            np.testing.assert_array_equal(grader.unpadded(case.outputs["merges"]),
                                          np.array(merges, dtype=np.int64).reshape(-1, 2), err_msg=case.name)
            assert grader.trained_vocab(case.outputs) == vocab, case.name
            assert max(map(len, vocab.values())) <= grader.MAX_TOKEN_BYTES, case.name
        elif mode == "encode":
            text = case.inputs["text"]
            assert "".join(map(chr, grader.unpadded(case.outputs["text"]))) == text, case.name   # round trip
            merges = [tuple(m) for m in case.inputs["merges"].tolist()]
            vocab = grader.vocab_from_merges(merges)
            ids_out = grader.unpadded(case.outputs["ids"]).tolist()
            assert b"".join(vocab[i] for i in ids_out) == text.encode("utf-8"), case.name
            # the encoding is what sequential application of the merges in rank order gives
            ids = list(text.encode("utf-8"))
            for r, pair in enumerate(merges):
                out, i = [], 0
                while i < len(ids):
                    if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair:
                        out.append(256 + r)
                        i += 2
                    else:
                        out.append(ids[i])
                        i += 1
                ids = out
            assert ids_out == ids, case.name
        elif mode == "decode":
            vocab = grader.vocab_from_merges([tuple(m) for m in case.inputs["merges"].tolist()])
            data = b"".join(vocab[int(i)] for i in case.inputs["ids"])
            assert "".join(map(chr, grader.unpadded(case.outputs["text"]))) == data.decode("utf-8", "replace"), case.name
        else:
            assert case.timed and len(grader.unpadded(case.outputs["merges"])) == case.inputs["vocab_size"] - 256


def test_training_text_encodes_to_the_training_result():
    from drillcli.solutions.bpe import encode, train_bpe

    text = grader.corpus(5, 30000)
    vocab, merges = train_bpe(text, 400)
    _, naive_merges, naive_ids = _naive_train(text, 400)
    assert merges == naive_merges and encode(text, merges) == naive_ids


def _tiktoken_encoding(merges: list[tuple[int, int]]):
    """tiktoken's byte-level BPE over the same merges: ranks are token ids, and one regex
    piece spans the whole text, since this problem does no pre-splitting."""
    import tiktoken

    vocab = grader.vocab_from_merges(merges)
    ranks = {token: i for i, token in vocab.items()}
    assert len(ranks) == len(vocab), "two merges produce the same bytes: tiktoken cannot hold them"
    return tiktoken.Encoding("drill-bpe", pat_str=r"[\s\S]+", mergeable_ranks=ranks, special_tokens={})


def test_reference_encode_and_decode_equal_tiktoken_on_every_case():
    """Encoding by lowest merge rank and decoding with errors='replace' are tiktoken's rules."""
    from drillcli.solutions.bpe import decode, encode

    for case in stored_cases(PROBLEM):
        mode = case.inputs["_mode"]
        merges = [tuple(m) for m in (case.inputs["merges"] if mode in ("encode", "decode")
                                     else grader.unpadded(case.outputs["merges"])).tolist()]
        tk = _tiktoken_encoding(merges)
        if mode == "decode":
            ids = [int(i) for i in case.inputs["ids"]]
            assert decode(ids, grader.vocab_from_merges(merges)) == tk.decode(ids, errors="replace"), case.name
            continue
        text = case.inputs["text"] if mode != "speed" else grader.corpus(**case.inputs["_corpus"])[:20000]
        assert encode(text, merges) == tk.encode_ordinary(text), case.name


def test_check_shows_the_first_differing_merge_and_both_decoded_strings():
    cases = {c.name: c for c in stored_cases(PROBLEM)}
    train = cases["readable-aaabdaaabac"]
    merges = train.outputs["merges"].copy()
    merges[1] = [256, 97]
    assert grader.check(train, {**train.outputs, "merges": merges}).startswith(
        "merges differ from merge 1 on (the one creating id 257): expected (97, 98) = b'ab', got (256, 97) = b'aaa'")
    decoded = cases["decode-invalid-utf8"]
    text = decoded.outputs["text"].copy()
    text[0] = ord("?")
    message = grader.check(decoded, {"text": text})
    assert "expected '\ufffdA" in message and "got      '?A" in message
