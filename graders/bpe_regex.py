"""Cases for byte-level BPE with GPT-2 regex pre-tokenisation and special tokens: train_bpe
(merges, then vocab, equal the reference's), encode (with given merges and special tokens),
decode (special tokens and invalid UTF-8 included), round trips through arbitrary Unicode.

Each case names what it drives in `_mode`:
  train     train_bpe(text, num_merges, special_tokens)           -> merges, vocab_lens, vocab_bytes
  encode    encode(text, merges, special_tokens), decode(ids, vocab) -> ids, text (code points)
  decode    decode(ids, vocab)                                     -> text (code points)
The vocab handed to decode is built by the grader from the merges and special tokens (256
bytes, vocab[256 + r] = vocab[a] + vocab[b] for merges[r] = (a, b), then the special tokens).
`special_tokens` is stored as a JSON value (a tuple here, a list once loaded) and handed over
as a fresh list."""

from drillcli.fixtures import Case, make_case
from drillcli.graders.bpe import _code_points, _ids, _ids_problem, _merges_problem, _padded, _text_problem, unpadded

RETURNS = ("merges",)
MAX_TOKEN_BYTES = 64   # the vocab output holds each token's first 64 bytes (and its full length)
GPT2_SPLIT_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
EOT = "<|endoftext|>"


def corpus(seed: int, size: int) -> str:
    """A deterministic text of about `size` characters: Zipf-distributed words (ASCII, accents,
    CJK, emoji), numbers, contractions, punctuation runs, whitespace runs and <|endoftext|>."""
    import numpy as np

    rng = np.random.default_rng(seed)
    letters = list("abcdefghijklmnopqrstuvwxyz") * 3 + list("ABCDEFGH") + list("éüßçñ") + ["中", "文", "😀"]
    words = ["".join(rng.choice(letters, size=int(rng.integers(1, 8)))) for _ in range(1500)]
    words += ["2024", "7", "365", "1.5", "don't", "it's", "we'll", "I'm", "they're", "you've", "he'd", "DON'T"]
    zipf = 1.0 / np.arange(1, len(words) + 1) ** 1.1
    picks = rng.choice(len(words), size=size // 5, p=zipf / zipf.sum())
    seps = [" "] * 12 + [", ", ". ", "!! ", "... ", "  ", "   ", "\n", "\n\n", " \n", "\t", "?\n", " (", ") ", EOT]
    chosen = rng.choice(len(seps), size=len(picks))
    return "".join(words[i] + seps[s] for i, s in zip(picks, chosen))[:size]


def vocab_from(merges, special_tokens):
    """{id: bytes}: the 256 bytes, one token per merge, then the special tokens."""
    vocab = {i: bytes([i]) for i in range(256)}
    for i, (a, b) in enumerate(merges):
        vocab[256 + i] = vocab[a] + vocab[b]
    for s in special_tokens:
        vocab[len(vocab)] = s.encode("utf-8")
    return vocab


def _function(entry, name):
    from drillcli.harness import WrongReturn

    fn = getattr(entry, name, None) if isinstance(entry, _Variant) else getattr(entry, "__globals__", {}).get(name)
    if not callable(fn):
        raise WrongReturn(f"your file must define {name}() next to train_bpe()")
    return fn


def _trained(result, num_merges, special_tokens):
    """(merges (num_merges, 2), vocab_lens (n,), vocab_bytes (n, MAX_TOKEN_BYTES)), padded with -1,
    n = 256 + num_merges + len(special_tokens), from what train_bpe returned."""
    import numpy as np

    from drillcli.harness import WrongReturn, unpack

    vocab, merges = unpack(result, ["vocab", "merges"]).values()
    if not isinstance(vocab, dict):
        raise WrongReturn(f"vocab must be a dict[int, bytes], got {type(vocab).__name__}")
    if sorted(vocab) != list(range(len(vocab))):
        missing = sorted(set(range(len(vocab))) - set(vocab))
        raise WrongReturn(f"vocab keys must be 0 .. {len(vocab) - 1} without gaps; {missing[0] if missing else 0} is missing "
                          f"(special tokens take the ids right after the merges learned: 256 + len(merges) + k, "
                          f"from {256 + len(merges)} on here)")
    if not all(isinstance(v, (bytes, bytearray)) for v in vocab.values()):
        raise WrongReturn("vocab values must be bytes (special tokens too: s.encode('utf-8'))")
    if isinstance(merges, dict) or not all(isinstance(m, (list, tuple)) and len(m) == 2 for m in merges):
        raise WrongReturn("merges must be a list of (a, b) pairs in merge order (pair r creates id 256 + r)")
    size = 256 + num_merges + len(special_tokens)
    if len(merges) > num_merges or len(vocab) > size:
        raise WrongReturn(f"train_bpe returned {len(merges)} merges and {len(vocab)} vocab entries; num_merges = "
                          f"{num_merges} and {len(special_tokens)} special tokens allow at most {num_merges} and {size}")
    pairs = np.full((num_merges, 2), -1, dtype=np.int64)
    pairs[:len(merges)] = np.array([[int(a), int(b)] for a, b in merges], dtype=np.int64).reshape(-1, 2)
    lens = _padded((len(vocab[i]) for i in range(len(vocab))), size)
    rows = np.stack([_padded(bytes(vocab.get(i, b""))[:MAX_TOKEN_BYTES], MAX_TOKEN_BYTES) for i in range(size)])
    return {"merges": pairs, "vocab_lens": lens, "vocab_bytes": rows}


def run(entry, kind, case, names):
    mode, specials = case.inputs["_mode"], list(case.inputs["special_tokens"])
    if mode == "train":
        num_merges = case.inputs["num_merges"]
        return _trained(entry(case.inputs["text"], num_merges, list(specials)), num_merges, specials)
    merges = [(int(a), int(b)) for a, b in case.inputs["merges"].reshape(-1, 2)]
    vocab = vocab_from(merges, specials)
    decode = _function(entry, "decode")
    if mode == "encode":
        text = case.inputs["text"]
        ids = _ids(_function(entry, "encode")(text, list(merges), list(specials)), len(text.encode("utf-8")) + 1)
        decoded = decode([int(i) for i in ids if i >= 0], dict(vocab))
        return {"ids": ids, "text": _code_points(decoded, len(text) + 1)}
    ids = [int(i) for i in case.inputs["ids"]]
    return {"text": _code_points(decode(ids, dict(vocab)), sum(len(vocab[i]) for i in ids) + 1)}


def trained_vocab(outputs):
    """{id: bytes} from train outputs (tokens longer than MAX_TOKEN_BYTES come back cut)."""
    lens = unpadded(outputs["vocab_lens"])
    return {i: bytes(outputs["vocab_bytes"][i, :min(n, MAX_TOKEN_BYTES)].astype("uint8")) for i, n in enumerate(lens)}


def check(case, got):
    """merges before vocab, ids before the decoded text: the first difference of each, shown."""
    mode = case.inputs["_mode"]
    if mode == "train":
        return _merges_problem(case.outputs["merges"], got["merges"]) or _vocab_problem(case, got)
    if mode == "encode":
        return _ids_problem(case, got) or _text_problem("decode(encode(text))", case.outputs["text"], got["text"])
    ids = case.inputs["ids"].tolist()
    return _text_problem(f"decode({ids[:12]}{', ...' if len(ids) > 12 else ''})", case.outputs["text"], got["text"])


def _vocab_problem(case, got):
    expected, have = trained_vocab(case.outputs), trained_vocab(got)
    if expected == have:
        return None
    n_merges, n_special = len(unpadded(case.outputs["merges"])), len(case.inputs["special_tokens"])
    if len(have) != len(expected):
        return (f"vocab has {len(have)} entries, expected {len(expected)}: 256 bytes + {n_merges} merges "
                f"+ {n_special} special tokens")
    i = next(i for i in expected if expected[i] != have[i])
    why = (f"special tokens take the ids after the merges, in list order: special_tokens[k] is 256 + len(merges) + k "
           f"(here {256 + n_merges} on)" if i >= 256 + n_merges else
           "vocab[256 + r] must be vocab[a] + vocab[b] for merges[r] = (a, b)")
    return f"vocab[{i}] is {have[i]!r}, expected {expected[i]!r}\n{why}"


# ---------------------------------------------------------------------------------------------
# Near misses: the same tokenizer with one other convention (naive, build time only).

class _Variant:
    """train_bpe, encode and decode of another convention; the grader's `run` drives it like
    a user's module (train_bpe is the call, encode and decode are attributes)."""

    def __init__(self, tie="bytes", specials_first=False):
        self.tie, self.specials_first = tie, specials_first

    def _pre_tokens(self, text, special_tokens):
        import regex

        from drillcli.solutions.bpe_regex import split_special

        return [(p, s) if s else (regex.findall(GPT2_SPLIT_PATTERN, p), s) for p, s in split_special(text, special_tokens)]

    def __call__(self, text, num_merges, special_tokens):
        from collections import Counter

        from drillcli.solutions.bpe_regex import merge

        words = Counter(tuple(w.encode("utf-8")) for ws, s in self._pre_tokens(text, special_tokens) if not s for w in ws)
        vocab = {i: bytes([i]) for i in range(256)}
        if self.specials_first:
            vocab.update({256 + k: s.encode("utf-8") for k, s in enumerate(special_tokens)})
        key = {"bytes": lambda p, c: (c[p], vocab[p[0]], vocab[p[1]]),
               "ids": lambda p, c: (c[p], p),
               "smaller": lambda p, c: (c[p], -p[0], -p[1])}[self.tie]
        merges = []
        for _ in range(num_merges):
            counts = Counter()
            for word, n in words.items():
                for pair in zip(word, word[1:]):
                    counts[pair] += n
            if not counts or max(counts.values()) < 2:
                break
            pair, new = max(counts, key=lambda p: key(p, counts)), len(vocab)
            words = {tuple(merge(list(w), pair, new)): n for w, n in words.items()}
            merges.append(pair)
            vocab[new] = vocab[pair[0]] + vocab[pair[1]]
        if not self.specials_first:
            vocab.update({len(vocab) + k: s.encode("utf-8") for k, s in enumerate(special_tokens)})
        return vocab, merges

    def encode(self, text, merges, special_tokens):
        from drillcli.solutions.bpe_regex import merge

        first = 256 + (len(special_tokens) if self.specials_first else 0)
        rank = {tuple(p): first + r for r, p in enumerate(merges)}
        special_id = {s: (256 if self.specials_first else 256 + len(merges)) + k for k, s in enumerate(special_tokens)}
        ids = []
        for piece, special in self._pre_tokens(text, special_tokens):
            if special:
                ids.append(special_id[piece])
                continue
            for word in piece:
                w = list(word.encode("utf-8"))
                while len(w) >= 2:
                    pair = min(zip(w, w[1:]), key=lambda p: rank.get(p, float("inf")))
                    if pair not in rank:
                        break
                    w = merge(w, pair, rank[pair])
                ids.extend(w)
        return ids

    @staticmethod
    def decode(ids, vocab):
        return b"".join(vocab[i] for i in ids).decode("utf-8", errors="replace")


NEAR_MISSES = {
    "tie-by-token-ids": ("your merges match breaking count ties by the greater pair of token ids (a, b); this problem "
                         "compares the byte strings (vocab[a], vocab[b]), so b's' beats b'hu' although 115 < 256 "
                         "(see the prompt)", _Variant(tie="ids")),
    "tie-by-smaller-pair": ("your merges match breaking count ties by the smaller pair (a, b), the `bpe` problem's rule; "
                            "this problem takes the greater pair of byte strings (vocab[a], vocab[b]) (see the prompt)",
                            _Variant(tie="smaller")),
    "specials-before-merges": ("your ids match giving the special tokens the ids right after the 256 bytes (merges "
                               "after them); this problem gives them the ids after the merges: special_tokens[k] is "
                               "256 + len(merges) + k (see the prompt)", _Variant(specials_first=True)),
}


def cases() -> list[Case]:
    import numpy as np

    from drillcli.solutions.bpe_regex import train_bpe   # build time only: merges for the encode cases

    out: list[Case] = []

    def train(name, text, num_merges, special_tokens=(), note=""):
        out.append(make_case(name, {"text": text, "num_merges": num_merges, "special_tokens": tuple(special_tokens),
                                    "_mode": "train"}, note=note))

    def encode(name, text, merges, special_tokens=(), note=""):
        m = np.array(merges, dtype=np.int64).reshape(-1, 2)
        out.append(make_case(name, {"text": text, "merges": m, "special_tokens": tuple(special_tokens),
                                    "_mode": "encode"}, note=note))

    def decode(name, ids, merges, special_tokens=(), note=""):
        m = np.array(merges, dtype=np.int64).reshape(-1, 2)
        out.append(make_case(name, {"ids": np.array(ids, dtype=np.int64), "merges": m,
                                    "special_tokens": tuple(special_tokens), "_mode": "decode"}, note=note))

    eot, overlap = [EOT], [EOT, EOT + EOT]
    rng = np.random.default_rng(0)

    # training: readable ones first
    train("readable-hug-hush", "hug hush hush" + EOT, 3, eot,
          note="the example of the prompt: pre-tokens 'hug', ' hush' x2; (104, 117) counts 3; then three pairs tie "
               "at 2 and (b's', b'h') is the greatest pair of byte strings; <|endoftext|> gets id 259")
    train("readable-no-cross-boundary", "x.x.x. x.x", 5,
          note="pre-tokens 'x', '.', ..., ' x': no pair exists inside a pre-token, so no merge ((120, 46) never counts)")
    train("readable-tie-bytes-not-ids", "b b ab b ab", 3,
          note="after 256 = b'ab', (32, 98) and (32, 256) tie at 2: b'b' > b'ab' as bytes although 98 < 256")
    train("readable-weighted-counts", "ab ab ab cd cd", 2,
          note="pre-tokens 'ab', ' ab' x2, ' cd' x2: (97, 98) counts 1 + 2 = 3; then (32, 256), (32, 99) and "
               "(99, 100) tie at 2 and b'c' is the greatest first token")
    train("num-merges-0", "hello hello", 0, note="num_merges = 0: no merges, the 256 byte tokens")
    train("num-merges-0-special", "hello" + EOT + "hello", 0, eot,
          note="num_merges = 0: the special token takes id 256, right after the bytes")
    train("no-special-tokens", "low lower lowest low", 6, note="special_tokens = []: the whole text is pre-tokenised")
    train("empty-text", "", 10, eot, note="empty text: no merges; the special token still gets id 256")
    train("only-special-tokens", EOT * 3, 5, eot,
          note="the text is special tokens only: nothing to count, no merges, <|endoftext|> = 256")
    train("specials-start-end-adjacent", EOT + "low lower" + EOT + EOT + "lowest low" + EOT, 8, eot,
          note="special tokens at the start, end and side by side are cut out before pre-tokenising; none of their "
               "bytes ('<|', 'en', ...) is ever counted")
    train("special-inside-word", "cats" + EOT + "cats dogs" + EOT + "dogs", 6, eot,
          note="'cats<|endoftext|>cats' gives the pre-tokens 'cats' and 'cats': the special token is cut out first")
    train("two-specials-list-order", "<|im_start|>hi hi<|im_end|><|im_start|>hi", 3, ["<|im_end|>", "<|im_start|>"],
          note="special tokens take ids in list order after the merges: <|im_end|> 257, <|im_start|> 258")
    train("special-absent-from-text", "aaa aaa", 4, ["<|pad|>"],
          note="a special token that never occurs still gets its id after the merges")
    train("overlapping-specials", EOT + EOT + "ab ab" + EOT + "ab", 3, overlap,
          note="where two special tokens start at the same character the longer wins: '<|endoftext|><|endoftext|>' "
               "is one token")
    train("early-stop-special-id", "abc abd", 10, eot,
          note="training stops once no pair occurs twice (1 merge here): the special token takes 256 + len(merges) = 257, "
               "not 256 + num_merges")
    train("contractions", "don't don't I'm we'll she's they're you've he'd DON'T DON'T DON'T IT'S IT'S", 12,
          note="'s 't 're 've 'm 'll 'd are pre-tokens of their own; the pattern is case-sensitive: \"DON'T\" is "
               "'DON', \"'\", 'T'")
    train("whitespace-runs", "a  b   c\n\nd \n  e\t\t f  \n\n  g   ", 10,
          note="\\s+(?!\\S) leaves the last space of a run to the next word: 'a', ' ', ' b', '  ', ' c', ...")
    train("digits-and-punctuation", "call 555-1234 or 555-9876!!! x2 x22 ab12 3.14 3.14 ?!?! ?!?!", 12,
          note="letters, digits and punctuation are separate pre-tokens: 'ab12' is 'ab' + '12'")
    train("unicode-multibyte", "naïve café 😀😀 😀😀 中文 中文字 über über ñ", 12,
          note="multi-byte UTF-8 characters: merges combine bytes within a pre-token")
    train("unicode-categories", "e\u0301e\u0301 Ⅻ Ⅻ ½½ ½½ ٣٤ ٣٤ 一二 一二 _x_ _x_", 12,
          note="\\p{L} and \\p{N} are Unicode: 'Ⅻ', '½' and Arabic digits are numbers; U+0301 (a combining mark) and "
               "'_' are neither letter nor number")
    train("unicode-whitespace", "a\u00a0b a\u00a0b c\u3000\u3000d c\u3000\u3000d e\u2028f", 10,
          note="NBSP, U+3000 and U+2028 are whitespace for \\s")
    train("ties-binary-alphabet", "".join(rng.choice(list("ab  "), size=1500)), 40,
          note="a 2-letter alphabet with spaces: many count ties, broken by the greater pair of byte strings")
    train("medium-corpus", corpus(1, 5000), 80, eot,
          note="a 5 kB corpus with contractions, numbers, punctuation, whitespace runs and <|endoftext|>")

    # encoding
    readable = train_bpe("hug hush hush" + EOT, 3, eot)[1]
    encode("encode-readable", "hush hug" + EOT + "hush", readable, eot,
           note="the example of the prompt: [258, 32, 256, 103, 259, 258]")
    encode("encode-rank-order", "abcab abc", [(98, 99), (97, 98), (97, 256)],
           note="the lowest-rank pair merges first, not the leftmost: 'abc' -> 97 256 -> 258")
    encode("encode-no-cross-boundary", "ab ab", [(98, 32), (97, 98)],
           note="(98, 32) would join 'ab' and ' ab' but never applies: pre-tokens are encoded one by one")
    encode("encode-specials-start-end-adjacent", EOT + "hush" + EOT + EOT + " hug hush" + EOT, readable, eot,
           note="each special token becomes its id, also at the start, the end and side by side")
    encode("encode-special-not-listed", "hush<|endoftext|>", readable, [],
           note="with special_tokens = [] the text '<|endoftext|>' is ordinary text")
    encode("encode-no-merges", "héllo" + EOT, [], eot, note="no merges: the UTF-8 bytes, and the special token is 256")
    encode("encode-empty", "", readable, eot, note="empty text encodes to []")
    encode("encode-overlapping-specials", "x" + EOT + EOT + EOT + "y", [], overlap,
           note="the longer special token wins where both start: <|endoftext|><|endoftext|> (257), then <|endoftext|> (256)")
    encode("encode-overlapping-specials-words", "hush" + EOT + EOT + " hug" + EOT, readable, overlap,
           note="special_tokens = ['<|endoftext|>', '<|endoftext|><|endoftext|>']: the longer one (260) wins where both "
                "start, whatever the list order")
    encode("encode-contractions", "DON'T don't IT'S", [(39, 116), (39, 84), (68, 79), (39, 83)],
           note="contractions are lowercase only: \"DON'T\" is 'DON', \"'\", 'T', so (39, 84) never applies")
    corpus_merges = train_bpe(corpus(2, 12000), 150, eot)[1]
    encode("encode-unseen-text", corpus(3, 2000), corpus_merges, eot, note="merges learned on another text")
    encode("encode-whitespace-runs", "x   y\n\n\n z \t\t\n   ", corpus_merges, eot,
           note="whitespace runs: the last space before a word joins the word")
    encode("roundtrip-arbitrary-unicode",
           "Zürich ½ Ωμέγα العربية עברית 中文 日本語 한국어 👩‍👩‍👧 🏳️‍🌈 e\u0301 \ufeff\x00\x7f\u2028 \U0010ffff 𝔘𝔫𝔦 " + EOT,
           corpus_merges, eot, note="combining marks, ZWJ sequences, BOM, NUL, U+10FFFF: decode(encode(s)) == s")

    # decoding
    decode("decode-specials", [258, 259, 32, 256, 103, 259], readable, eot,
           note="a special token's id decodes to its text")
    decode("decode-invalid-utf8", [0x80, 0x41, 0xF0, 0x9F, 0x42, 0xFF, 0xC3], [],
           note="invalid UTF-8 (lone continuation byte, truncated 4-byte char, 0xFF): one U+FFFD each, errors='replace'")
    decode("decode-empty", [], readable, eot, note="no ids: the empty string")
    return out
