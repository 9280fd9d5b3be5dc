"""bpe-regex: the reference's encode and decode equal tiktoken's (a custom Encoding with the
same GPT-2 pattern, the reference's trained ranks and its special-token ids) on every stored
case, and its pre-tokenisation equals tiktoken's even where merges would cross pre-token
boundaries; correct variants in other styles pass, realistic bugs fail, the known other
conventions are named, and the verdicts show the first differing merge and both strings."""

from __future__ import annotations

import numpy as np
import pytest

from drillcli.graders import bpe_regex as grader
from tests.support import assert_near_miss, assert_rejected, assert_within_half_tolerance, describe, mutate, stored_cases

PROBLEM = "bpe-regex"

# A plain, correct solution written independently of the reference; the bugs are derived from it.
NAIVE = r'''
from collections import Counter

import regex

PAT = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


def chunks(text, special_tokens):
    """[(is_special, str)]: special tokens cut out (leftmost, longest first), pieces pre-tokenised."""
    if special_tokens:
        alternatives = "|".join(regex.escape(s) for s in sorted(special_tokens, key=len, reverse=True))
        parts = regex.split("(" + alternatives + ")", text)
    else:
        parts = [text]
    out = []
    for i, part in enumerate(parts):
        if not part:
            continue
        if i % 2:
            out.append((True, part))
        else:
            out.extend((False, w) for w in regex.findall(PAT, part))
    return out


def apply_merge(seq, pair, new):
    out, i = [], 0
    while i < len(seq):
        if i + 1 < len(seq) and seq[i] == pair[0] and seq[i + 1] == pair[1]:
            out.append(new)
            i += 2
        else:
            out.append(seq[i])
            i += 1
    return tuple(out)


def train_bpe(text, num_merges, special_tokens):
    freq = Counter(tuple(w.encode("utf-8")) for special, w in chunks(text, special_tokens) if not special)
    vocab = {i: bytes([i]) for i in range(256)}
    merges = []
    while len(merges) < num_merges:
        stats = Counter()
        for word, n in freq.items():
            for pair in zip(word, word[1:]):
                stats[pair] += n
        if not stats:
            break
        best = max(stats, key=lambda p: (stats[p], vocab[p[0]], vocab[p[1]]))
        if stats[best] < 2:
            break
        new = 256 + len(merges)
        freq = Counter({apply_merge(w, best, new): n for w, n in freq.items()})
        merges.append(best)
        vocab[new] = vocab[best[0]] + vocab[best[1]]
    for k, s in enumerate(special_tokens):
        vocab[256 + len(merges) + k] = s.encode("utf-8")
    return vocab, merges


def encode(text, merges, special_tokens):
    rank = {tuple(p): r for r, p in enumerate(merges)}
    ids = []
    for special, w in chunks(text, special_tokens):
        if special:
            ids.append(256 + len(merges) + special_tokens.index(w))
            continue
        seq = tuple(w.encode("utf-8"))
        while len(seq) > 1:
            best = min(zip(seq, seq[1:]), key=lambda p: rank.get(p, len(merges)))
            if best not in rank:
                break
            seq = apply_merge(seq, best, 256 + rank[best])
        ids.extend(seq)
    return ids


def decode(ids, vocab):
    return b"".join(vocab[i] for i in ids).decode("utf-8", errors="replace")
'''

CORRECT = {
    "naive-recount": NAIVE,
    # incremental pair counts with a pair -> words index; special tokens cut by a str.find scan;
    # encoding by tiktoken's rule (the lowest-ranked adjacent token whose concatenation is a token)
    "incremental-index-tiktoken-style-encode": r'''
from collections import defaultdict

import regex

PAT = regex.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")


def split(text, specials):
    pieces, start, i = [], 0, 0
    while i < len(text):
        hit = max((s for s in specials if text.startswith(s, i)), key=len, default=None)
        if hit is None:
            i += 1
            continue
        pieces += [(text[start:i], False), (hit, True)]
        i = start = i + len(hit)
    pieces.append((text[start:], False))
    return [(p, s) for p, s in pieces if p]


def train_bpe(text, num_merges, special_tokens):
    counts = defaultdict(int)
    for piece, special in split(text, special_tokens):
        if not special:
            for m in PAT.finditer(piece):
                counts[m.group().encode("utf-8")] += 1
    words = [list(w) for w in counts]
    weight = list(counts.values())
    pair_count = defaultdict(int)
    pair_words = defaultdict(set)
    for j, w in enumerate(words):
        for p in zip(w, w[1:]):
            pair_count[p] += weight[j]
            pair_words[p].add(j)
    vocab = [bytes([i]) for i in range(256)]
    merges = []
    for _ in range(num_merges):
        live = [p for p, c in pair_count.items() if c > 0]
        if not live:
            break
        best = max(live, key=lambda p: (pair_count[p], vocab[p[0]], vocab[p[1]]))
        if pair_count[best] < 2:
            break
        new = len(vocab)
        for j in list(pair_words[best]):
            w = words[j]
            for p in zip(w, w[1:]):
                pair_count[p] -= weight[j]
            merged, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    merged.append(new)
                    i += 2
                else:
                    merged.append(w[i])
                    i += 1
            words[j] = merged
            for p in zip(merged, merged[1:]):
                pair_count[p] += weight[j]
                pair_words[p].add(j)
        merges.append(best)
        vocab.append(vocab[best[0]] + vocab[best[1]])
    vocab += [s.encode("utf-8") for s in special_tokens]
    return dict(enumerate(vocab)), merges


def encode(text, merges, special_tokens):
    table = [bytes([i]) for i in range(256)]
    for a, b in merges:
        table.append(table[a] + table[b])
    rank = {t: i for i, t in enumerate(table)}
    ids = []
    for piece, special in split(text, special_tokens):
        if special:
            ids.append(len(table) + special_tokens.index(piece))
            continue
        for m in PAT.finditer(piece):
            parts = [bytes([c]) for c in m.group().encode("utf-8")]
            while len(parts) > 1:
                ranks = [rank.get(parts[i] + parts[i + 1], len(table)) for i in range(len(parts) - 1)]
                i = min(range(len(ranks)), key=ranks.__getitem__)
                if ranks[i] >= len(table) or ranks[i] < 256:
                    break
                parts[i:i + 2] = [parts[i] + parts[i + 1]]
            ids.extend(rank[p] for p in parts)
    return ids


def decode(ids, vocab):
    out = bytearray()
    for i in ids:
        out.extend(vocab[i])
    return out.decode("utf-8", "replace")
''',
    # tokens as bytes objects throughout (ties: Python's own tuple-of-bytes order), every
    # pre-token occurrence kept (no dedup), encoding by applying the merges in rank order
    "bytes-tokens-sequential-encode": r'''
from collections import Counter

import regex

GPT2 = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


def _pieces(text, special_tokens):
    if not special_tokens:
        return [(text, False)]
    pat = "(" + "|".join(map(regex.escape, sorted(special_tokens, key=lambda s: -len(s)))) + ")"
    return [(p, p in special_tokens and i % 2 == 1) for i, p in enumerate(regex.split(pat, text))]


def train_bpe(text, num_merges, special_tokens):
    seqs = [[bytes([b]) for b in w.encode("utf-8")]
            for piece, sp in _pieces(text, special_tokens) if not sp for w in regex.findall(GPT2, piece)]
    ids = {bytes([i]): i for i in range(256)}
    merges = []
    for _ in range(num_merges):
        stats = Counter(p for s in seqs for p in zip(s, s[1:]))
        if not stats:
            break
        (a, b), n = max(stats.items(), key=lambda kv: (kv[1], kv[0]))
        if n < 2:
            break
        for s in seqs:
            i = 0
            while i < len(s) - 1:
                if s[i] == a and s[i + 1] == b:
                    s[i:i + 2] = [a + b]
                i += 1
        merges.append((ids[a], ids[b]))
        ids[a + b] = len(ids)
    vocab = {i: t for t, i in ids.items()}
    for s in special_tokens:
        vocab[len(vocab)] = s.encode("utf-8")
    return vocab, merges


def encode(text, merges, special_tokens):
    out = []
    for piece, sp in _pieces(text, special_tokens):
        if sp:
            out.append(256 + len(merges) + special_tokens.index(piece))
            continue
        for w in regex.findall(GPT2, piece):
            seq = list(w.encode("utf-8"))
            for r, (a, b) in enumerate(merges):
                i = 0
                while i < len(seq) - 1:
                    if seq[i] == a and seq[i + 1] == b:
                        seq[i:i + 2] = [256 + r]
                    i += 1
            out += seq
    return out


def decode(ids, vocab):
    return bytes(b for i in ids for b in vocab[i]).decode("utf-8", errors="replace")
''',
    # a lazy max-heap keyed on (count, bytes, bytes) through an inverted-order wrapper, and a
    # cached encoder
    "lazy-heap-class-cached-encode": r'''
import heapq
from collections import Counter, defaultdict
from functools import total_ordering

import regex

PATTERN = regex.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")


@total_ordering
class Desc:
    """Reverses the order of a key, to pop the greatest from heapq's min-heap."""
    def __init__(self, key):
        self.key = key
    def __lt__(self, other):
        return self.key > other.key
    def __eq__(self, other):
        return self.key == other.key


class Trainer:
    def __init__(self, text, special_tokens):
        self.special = special_tokens
        alt = "|".join(regex.escape(s) for s in sorted(special_tokens, key=len, reverse=True))
        pieces = regex.split(f"({alt})", text)[::2] if special_tokens else [text]
        words = Counter(w.encode("utf-8") for p in pieces for w in PATTERN.findall(p))
        self.words = [[list(w), n] for w, n in words.items()]
        self.vocab = {i: bytes([i]) for i in range(256)}
        self.count = defaultdict(int)
        self.where = defaultdict(set)
        for j, (w, n) in enumerate(self.words):
            for p in zip(w, w[1:]):
                self.count[p] += n
                self.where[p].add(j)
        self.heap = [self.entry(p) for p in self.count]
        heapq.heapify(self.heap)

    def entry(self, p):
        return Desc((self.count[p], self.vocab[p[0]], self.vocab[p[1]])), p

    def pop_best(self):
        while self.heap:
            key, p = self.heap[0]
            if key.key[0] == self.count[p]:
                return p
            heapq.heappop(self.heap)
        return None

    def merge(self, pair, new):
        touched = {pair}
        for j in sorted(self.where.pop(pair)):
            w, n = self.words[j]
            for p in zip(w, w[1:]):
                self.count[p] -= n
                touched.add(p)
            out, i = [], 0
            while i < len(w):
                if w[i:i + 2] == list(pair):
                    out.append(new)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            self.words[j][0] = out
            for p in zip(out, out[1:]):
                self.count[p] += n
                self.where[p].add(j)
                touched.add(p)
        self.vocab[new] = self.vocab[pair[0]] + self.vocab[pair[1]]
        for p in touched:
            if self.count[p] > 0:
                heapq.heappush(self.heap, self.entry(p))


def train_bpe(text, num_merges, special_tokens):
    t = Trainer(text, special_tokens)
    merges = []
    while len(merges) < num_merges:
        best = t.pop_best()
        if best is None or t.count[best] < 2:
            break
        t.merge(best, 256 + len(merges))
        merges.append(best)
    vocab = dict(t.vocab)
    vocab.update({256 + len(merges) + k: s.encode("utf-8") for k, s in enumerate(special_tokens)})
    return vocab, merges


def encode(text, merges, special_tokens):
    rank = {tuple(m): r for r, m in enumerate(merges)}
    cache = {}

    def word_ids(w):
        if w not in cache:
            ids = list(w.encode("utf-8"))
            while True:
                cands = [(rank[p], i) for i, p in enumerate(zip(ids, ids[1:])) if p in rank]
                if not cands:
                    break
                r = min(cands)[0]
                pair, out, i = merges[r], [], 0
                while i < len(ids):
                    if i + 1 < len(ids) and (ids[i], ids[i + 1]) == tuple(pair):
                        out.append(256 + r)
                        i += 2
                    else:
                        out.append(ids[i])
                        i += 1
                ids = out
            cache[w] = ids
        return cache[w]

    ids, pos = [], 0
    specials = sorted(special_tokens, key=len, reverse=True)
    pattern = regex.compile("|".join(map(regex.escape, specials))) if specials else None
    for m in (pattern.finditer(text) if pattern else []):
        for w in PATTERN.findall(text[pos:m.start()]):
            ids += word_ids(w)
        ids.append(256 + len(merges) + special_tokens.index(m.group()))
        pos = m.end()
    for w in PATTERN.findall(text[pos:]):
        ids += word_ids(w)
    return ids


def decode(ids, vocab):
    return b"".join(map(vocab.__getitem__, ids)).decode("utf-8", "replace")
''',
}

_TIE = "best = max(stats, key=lambda p: (stats[p], vocab[p[0]], vocab[p[1]]))"
_SPLIT_GUARD = ("    if special_tokens:\n        alternatives", "    if True:\n        alternatives")
BUGS = {
    # merges learned over the raw byte sequence of each piece (the `bpe` problem's trainer)
    "no-pre-tokenisation": mutate(NAIVE, ("out.extend((False, w) for w in regex.findall(PAT, part))",
                                          "out.extend([(False, part)] if part else [])")),
    "special-tokens-counted-in-training": mutate(NAIVE, (
        'freq = Counter(tuple(w.encode("utf-8")) for special, w in chunks(text, special_tokens) if not special)',
        'freq = Counter(tuple(w.encode("utf-8")) for w in regex.findall(PAT, text))')),
    "empty-special-list-splits-everywhere": mutate(NAIVE, _SPLIT_GUARD),
    "pre-token-counts-unweighted": mutate(NAIVE, ("stats[pair] += n", "stats[pair] += 1")),
    "pattern-without-lookahead": mutate(NAIVE, (r"|\s+(?!\S)|\s+", r"|\s+")),
    "contractions-case-insensitive": mutate(NAIVE, ("'s|'t|'re|'ve|'m|'ll|'d| ?", "(?i:'s|'t|'re|'ve|'m|'ll|'d)| ?")),
    "specials-in-list-order": mutate(NAIVE, ("sorted(special_tokens, key=len, reverse=True)", "special_tokens")),
    "special-ids-after-num-merges": mutate(NAIVE, ('vocab[256 + len(merges) + k] = s.encode("utf-8")',
                                                   'vocab[256 + num_merges + k] = s.encode("utf-8")')),
    "encode-ignores-special-tokens": mutate(NAIVE, ("    for special, w in chunks(text, special_tokens):\n        if special:",
                                                    "    for special, w in chunks(text, []):\n        if special:")),
    "merges-pairs-seen-once": mutate(NAIVE, ("        if stats[best] < 2:\n            break\n", "")),
    "decode-token-by-token": mutate(NAIVE, ('return b"".join(vocab[i] for i in ids).decode("utf-8", errors="replace")',
                                            'return "".join(vocab[i].decode("utf-8", errors="replace") for i in ids)')),
}

# other conventions, each named in the verdict (graders/bpe_regex.py NEAR_MISSES)
NEAR = {
    "tie-by-token-ids": mutate(NAIVE, (_TIE, "best = max(stats, key=lambda p: (stats[p], p))")),
    "tie-by-smaller-pair": mutate(NAIVE, (_TIE, "best = max(stats, key=lambda p: (stats[p], -p[0], -p[1]))")),
    "specials-before-merges": mutate(
        NAIVE,
        ("    merges = []\n    while", "    merges = []\n    vocab.update({256 + k: s.encode() for k, s in enumerate(special_tokens)})\n    while"),
        ("        new = 256 + len(merges)\n", "        new = len(vocab)\n"),
        ('    for k, s in enumerate(special_tokens):\n        vocab[256 + len(merges) + k] = s.encode("utf-8")\n', ""),
        ("ids.append(256 + len(merges) + special_tokens.index(w))", "ids.append(256 + special_tokens.index(w))"),
        ("seq = apply_merge(seq, best, 256 + rank[best])", "seq = apply_merge(seq, best, 256 + len(special_tokens) + rank[best])")),
}


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass(grade_source, name):
    assert_within_half_tolerance(grade_source(PROBLEM, CORRECT[name]))


# after an early stop, ids 256 + len(merges) .. 256 + num_merges - 1 are missing from the vocab:
# a vocab with gaps is refused as such (its message names the special-token id rule)
EXPECTED_STATUS = {"special-ids-after-num-merges": "wrong_return"}


@pytest.mark.parametrize("name", BUGS)
def test_bugs_fail(grade_source, name):
    verdict = grade_source(PROBLEM, BUGS[name])
    assert verdict.status == EXPECTED_STATUS.get(name, "failed"), describe(verdict)
    assert_rejected(verdict)
    if name == "special-ids-after-num-merges":
        assert "256 + len(merges) + k" in verdict.first_failure().message, describe(verdict)


@pytest.mark.parametrize("name", NEAR)
def test_other_conventions_are_named(grade_source, name):
    verdict = grade_source(PROBLEM, NEAR[name])
    assert_near_miss(verdict, PROBLEM, name)
    assert_rejected(verdict)


# ------------------------------------------------------------------------------------------
# The reference against tiktoken

def _case_tokenizer(case):
    """(merges, special_tokens, vocab) a case runs with: given (encode/decode) or trained (train)."""
    specials = list(case.inputs["special_tokens"])
    if case.inputs["_mode"] == "train":
        merges = [tuple(m) for m in grader.unpadded(case.outputs["merges"]).tolist()]
    else:
        merges = [tuple(m) for m in case.inputs["merges"].tolist()]
    return merges, specials, grader.vocab_from(merges, specials)


def _tiktoken(merges, specials, name="drill-bpe-regex"):
    """tiktoken's byte-level BPE with the GPT-2 pattern over the same merges: ranks are token ids."""
    import tiktoken

    vocab = grader.vocab_from(merges, [])
    ranks = {token: i for i, token in vocab.items()}
    assert len(ranks) == len(vocab), "two merges produce the same bytes: tiktoken cannot hold them"
    return tiktoken.Encoding(name, pat_str=grader.GPT2_SPLIT_PATTERN, mergeable_ranks=ranks,
                             special_tokens={s: 256 + len(merges) + k for k, s in enumerate(specials)})


def _overlapping(specials):
    """tiktoken tries special tokens in hash-map order, so where one contains another it may
    take the shorter one; the problem takes the longest (checked without tiktoken below)."""
    return any(a != b and a in b for a in specials for b in specials)


def _tiktoken_ids(tk, text, specials):
    """tiktoken's ids for the text; with overlapping special tokens, the text is cut by the
    reference's rule and tiktoken encodes each ordinary piece."""
    from drillcli.solutions.bpe_regex import split_special

    if not _overlapping(specials):
        return tk.encode(text, allowed_special="all")
    return [i for piece, special in split_special(text, specials)
            for i in ([tk.encode_single_token(piece)] if special else tk.encode_ordinary(piece))]


def test_reference_encode_and_decode_equal_tiktoken_on_every_case():
    from drillcli.solutions.bpe_regex import decode, encode

    for case in stored_cases(PROBLEM):
        merges, specials, vocab = _case_tokenizer(case)
        tk = _tiktoken(merges, specials)
        if case.inputs["_mode"] == "decode":
            ids = [int(i) for i in case.inputs["ids"]]
            assert decode(ids, vocab) == tk.decode(ids, errors="replace"), case.name
            continue
        text = case.inputs["text"]                      # a train case: its own training text
        ids = encode(text, merges, specials)
        assert ids == _tiktoken_ids(tk, text, specials), case.name
        assert decode(ids, vocab) == tk.decode(ids) == text, case.name
        if case.inputs["_mode"] == "encode":
            assert ids == grader.unpadded(case.outputs["ids"]).tolist(), case.name


def test_reference_pre_tokens_equal_tiktoken_where_merges_cross_them():
    """Merges learned without pre-splitting (the `bpe` problem's trainer) join bytes across
    pre-token boundaries, so any difference between the reference's split and tiktoken's
    regex engine (Unicode classes, the lookahead, contractions) shows in the ids."""
    from drillcli.solutions.bpe import train_bpe as train_plain
    from drillcli.solutions.bpe_regex import encode

    for case in stored_cases(PROBLEM):
        if case.inputs["_mode"] == "decode":
            continue
        specials = list(case.inputs["special_tokens"])
        text = case.inputs["text"]
        plain = text
        for s in specials:
            plain = plain.replace(s, " ")
        merges = train_plain(plain, 256 + min(300, len(plain.encode("utf-8"))))[1]
        tk = _tiktoken(merges, specials, name="plain")
        assert encode(text, merges, specials) == _tiktoken_ids(tk, text, specials), case.name


def test_overlapping_special_tokens_take_the_longest():
    from drillcli.solutions.bpe_regex import encode, pre_tokens

    specials = [grader.EOT, grader.EOT * 2]
    assert encode("a" + grader.EOT * 3, [], specials) == [97, 257, 256]
    assert pre_tokens("x" + grader.EOT * 2 + "y", specials) == ["x", "y"]


def test_the_prompt_example():
    from drillcli.solutions.bpe_regex import decode, encode, train_bpe

    vocab, merges = train_bpe("hug hush hush<|endoftext|>", 3, ["<|endoftext|>"])
    assert merges == [(104, 117), (115, 104), (256, 257)] and vocab[259] == b"<|endoftext|>" and len(vocab) == 260
    assert encode("hush hug<|endoftext|>hush", merges, ["<|endoftext|>"]) == [258, 32, 256, 103, 259, 258]
    assert decode([258, 259, 0x80], vocab) == "hush<|endoftext|>\ufffd"
    ids_rule = grader.NEAR_MISSES["tie-by-token-ids"][1]
    assert ids_rule("hug hush hush<|endoftext|>", 3, ["<|endoftext|>"])[1][1] == (256, 115)


def test_stored_cases_cover_the_boundaries():
    cases = stored_cases(PROBLEM)
    train = [c for c in cases if c.inputs["_mode"] == "train"]
    assert len(cases) >= 20
    assert any(c.inputs["num_merges"] == 0 and not c.inputs["special_tokens"] for c in train)
    assert any(c.inputs["num_merges"] == 0 and c.inputs["special_tokens"] for c in train)
    assert any(not c.inputs["special_tokens"] for c in cases if c.inputs["_mode"] == "encode")
    assert any(len(grader.unpadded(c.outputs["merges"])) < c.inputs["num_merges"] and c.inputs["special_tokens"]
               for c in train), "an early stop with special tokens: their ids follow the merges learned"
    for c in train:
        assert max(map(len, grader.trained_vocab(c.outputs).values())) <= grader.MAX_TOKEN_BYTES, c.name


# ------------------------------------------------------------------------------------------
# Verdict messages

def test_check_shows_the_first_differing_merge_the_special_ids_and_both_strings():
    cases = {c.name: c for c in stored_cases(PROBLEM)}
    train = cases["readable-hug-hush"]
    merges = train.outputs["merges"].copy()
    merges[1] = [256, 115]
    message = grader.check(train, {**train.outputs, "merges": merges})
    assert message.startswith("merges differ from merge 1 on (the one creating id 257): "
                              "expected (115, 104) = b'sh', got (256, 115) = b'hus'"), message

    lens, rows = train.outputs["vocab_lens"].copy(), train.outputs["vocab_bytes"].copy()
    lens[256], rows[256] = lens[259], rows[259]          # the special token put first
    message = grader.check(train, {**train.outputs, "vocab_lens": lens, "vocab_bytes": rows})
    assert message.startswith("vocab[256] is b'<|endoftext|>', expected b'hu'"), message

    decoded = cases["decode-specials"]
    text = decoded.outputs["text"].copy()
    text[4] = ord("?")
    message = grader.check(decoded, {"text": text})
    assert "expected 'hush<|endoftext|>" in message and "got      'hush?|endoftext|>" in message, message

    encoded = cases["encode-readable"]
    ids = encoded.outputs["ids"].copy()
    ids[4] = 256
    message = grader.check(encoded, {**encoded.outputs, "ids": ids})
    assert message.startswith("encode: ids differ first at position 4: expected 259, got 256"), message


def test_special_token_vocab_message_names_the_id_rule():
    case = next(c for c in stored_cases(PROBLEM) if c.name == "early-stop-special-id")
    lens, rows = case.outputs["vocab_lens"].copy(), case.outputs["vocab_bytes"].copy()
    rows[257] = np.array([ord("x")] + [-1] * (rows.shape[1] - 1))
    lens[257] = 1
    message = grader.check(case, {**case.outputs, "vocab_lens": lens, "vocab_bytes": rows})
    assert "special_tokens[k] is 256 + len(merges) + k (here 257 on)" in message, message
