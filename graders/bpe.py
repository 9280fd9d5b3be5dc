"""Cases for byte-level BPE: train_bpe (merges and vocab equal the reference's), encode
(with given merges), decode (invalid UTF-8 included), round trips through arbitrary Unicode,
and a ~250 KB training run timed against the reference.

Each case names what it drives in `_mode`:
  train     train_bpe(text, vocab_size)                 -> merges, vocab_bytes, vocab_lens
  encode    encode(text, merges), decode(ids, vocab)    -> ids, text (code points)
  decode    decode(ids, vocab)                          -> text (code points)
  speed     train_bpe on a ~250 KB corpus generated from `_corpus` (seed, size) inside the
            worker, so the fixture stores only the expected merges and vocab
The vocab handed to decode is built by the grader from the merges (256 bytes, then
vocab[256 + i] = vocab[a] + vocab[b])."""

from drillcli.fixtures import Case, make_case

RETURNS = ("merges",)
MAX_TIME_RATIO = 6.0
MAX_TOKEN_BYTES = 64   # the vocab output holds each token's first 64 bytes (and its full length)


def corpus(seed: int, size: int) -> str:
    """A deterministic Zipf-distributed text of `size` characters (ASCII words, accents, CJK, emoji)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    letters = list("abcdefghijklmnopqrstuvwxyz") * 3 + list("éüßçñ") + ["中", "文", "字", "😀", "🚀"]
    words = ["".join(rng.choice(letters, size=int(rng.integers(1, 9)))) for _ in range(3000)]
    zipf = 1.0 / np.arange(1, len(words) + 1) ** 1.1
    picks = rng.choice(len(words), size=size // 4, p=zipf / zipf.sum())
    seps = rng.choice([" ", " ", " ", " ", ", ", ". ", "\n"], size=len(picks))
    return "".join(words[i] + s for i, s in zip(picks, seps))[:size]


def vocab_from_merges(merges):
    vocab = {i: bytes([i]) for i in range(256)}
    for i, (a, b) in enumerate(merges):
        vocab[256 + i] = vocab[a] + vocab[b]
    return vocab


def _function(entry, name):
    from drillcli.harness import WrongReturn

    fn = getattr(entry, "__globals__", {}).get(name)
    if not callable(fn):
        raise WrongReturn(f"your file must define {name}() next to train_bpe()")
    return fn


def _padded(values, length):
    """values (ints) as an int64 array of `length`, cut or padded with -1: outputs keep a fixed
    shape, so that `check` (not the shape comparison) reports where they first differ."""
    import numpy as np

    out = np.full(length, -1, dtype=np.int64)
    values = list(values)[:length]
    out[:len(values)] = values
    return out


def _code_points(s, length):
    from drillcli.harness import WrongReturn

    if not isinstance(s, str):
        raise WrongReturn(f"decode must return a str, got {type(s).__name__}")
    return _padded(map(ord, s), length)


def _ids(ids, length):
    from drillcli.harness import WrongReturn

    if hasattr(ids, "tolist"):
        ids = ids.tolist()
    if not isinstance(ids, (list, tuple)) or not all(isinstance(i, int) for i in ids):
        raise WrongReturn(f"encode must return a list of ints, got {type(ids).__name__}")
    return _padded(ids, length)


def _trained(result, vocab_size):
    """(merges (vocab_size - 256, 2), vocab_lens (vocab_size,), vocab_bytes (vocab_size, MAX_TOKEN_BYTES)),
    padded with -1, from what train_bpe returned."""
    import numpy as np

    from drillcli.harness import WrongReturn, unpack

    vocab, merges = unpack(result, ["vocab", "merges"]).values()
    if not isinstance(vocab, dict):
        raise WrongReturn(f"vocab must be a dict[int, bytes], got {type(vocab).__name__}")
    if sorted(vocab) != list(range(len(vocab))):
        raise WrongReturn(f"vocab keys must be 0 .. {len(vocab) - 1}")
    if not all(isinstance(v, (bytes, bytearray)) for v in vocab.values()):
        raise WrongReturn("vocab values must be bytes")
    if isinstance(merges, dict) or not all(isinstance(m, (list, tuple)) and len(m) == 2 for m in merges):
        raise WrongReturn("merges must be a list of (a, b) pairs in merge order (pair i creates id 256 + i)")
    if len(vocab) > vocab_size or len(merges) > vocab_size - 256:
        raise WrongReturn(f"train_bpe returned {len(vocab)} vocab entries and {len(merges)} merges; "
                          f"vocab_size = {vocab_size} allows at most {vocab_size} and {vocab_size - 256}")
    pairs = np.full((vocab_size - 256, 2), -1, dtype=np.int64)
    pairs[:len(merges)] = np.array([[int(a), int(b)] for a, b in merges], dtype=np.int64).reshape(-1, 2)
    lens = _padded((len(vocab[i]) for i in range(len(vocab))), vocab_size)
    rows = np.stack([_padded(bytes(vocab.get(i, b""))[:MAX_TOKEN_BYTES], MAX_TOKEN_BYTES) for i in range(vocab_size)])
    return pairs, lens, rows


def run(entry, kind, case, names):
    mode = case.inputs["_mode"]
    if mode in ("train", "speed"):
        text = case.inputs["text"] if mode == "train" else corpus(**case.inputs["_corpus"])
        merges, lens, rows = _trained(entry(text, case.inputs["vocab_size"]), case.inputs["vocab_size"])
        return {"merges": merges, "vocab_lens": lens, "vocab_bytes": rows}
    merges = [(int(a), int(b)) for a, b in case.inputs["merges"].reshape(-1, 2)]
    vocab = vocab_from_merges(merges)
    decode = _function(entry, "decode")
    if mode == "encode":
        text = case.inputs["text"]
        ids = _ids(_function(entry, "encode")(text, list(merges)), len(text.encode("utf-8")) + 1)
        decoded = decode([int(i) for i in ids if i >= 0], dict(vocab))
        return {"ids": ids, "text": _code_points(decoded, len(text) + 1)}
    ids = [int(i) for i in case.inputs["ids"]]
    return {"text": _code_points(decode(ids, dict(vocab)), sum(len(vocab[i]) for i in ids) + 1)}


def unpadded(values):
    """The values of a padded output, without the -1 padding (rows of merges, or a 1-D array)."""
    return values[values[:, 0] >= 0] if values.ndim == 2 else values[values >= 0]


def trained_vocab(outputs):
    """{id: bytes} from train outputs (tokens longer than MAX_TOKEN_BYTES come back cut)."""
    lens = unpadded(outputs["vocab_lens"])
    return {i: bytes(outputs["vocab_bytes"][i, :min(n, MAX_TOKEN_BYTES)].astype("uint8")) for i, n in enumerate(lens)}


def check(case, got):
    """merges before vocab, ids before the decoded text: the first difference of each, shown."""
    mode = case.inputs["_mode"]
    if mode in ("train", "speed"):
        return _merges_problem(case.outputs["merges"], got["merges"]) or _vocab_problem(case.outputs, got)
    if mode == "encode":
        return _ids_problem(case, got) or _text_problem("decode(encode(text))", case.outputs["text"], got["text"])
    return _text_problem(f"decode({case.inputs['ids'].tolist()[:12]}{', ...' if len(case.inputs['ids']) > 12 else ''})",
                         case.outputs["text"], got["text"])


def _merges_problem(want, have):
    import numpy as np

    bad = np.flatnonzero((want != have).any(axis=1))
    if bad.size == 0:
        return None
    rank = int(bad[0])
    want_vocab, have_vocab = vocab_from_merges(unpadded(want).tolist()), vocab_from_merges(unpadded(have)[:rank].tolist())

    def show(pair, vocab):
        if pair[0] < 0:
            return "no merge (training stops here)"
        a, b = (int(x) for x in pair)
        return f"({a}, {b}) = {vocab.get(a, b'?') + vocab.get(b, b'?')!r}"

    return (f"merges differ from merge {rank} on (the one creating id {256 + rank}): expected {show(want[rank], want_vocab)}, "
            f"got {show(have[rank], have_vocab)}\n"
            f"the first {rank} merges agree; you returned {len(unpadded(have))} merges, expected {len(unpadded(want))}")


def _vocab_problem(want, have):
    expected, got = trained_vocab(want), trained_vocab(have)
    if expected == got:
        return None
    if len(got) != len(expected):
        return f"vocab has {len(got)} entries, expected {len(expected)} (256 bytes + one per merge)"
    i = next(i for i in expected if expected[i] != got[i])
    return f"vocab[{i}] is {got[i]!r}, expected {expected[i]!r}\nvocab[256 + k] must be vocab[a] + vocab[b] for merges[k] = (a, b)"


def _ids_problem(case, got):
    import numpy as np

    want, have = case.outputs["ids"], got["ids"]
    bad = np.flatnonzero(want != have)
    if bad.size == 0:
        return None
    i = int(bad[0])
    show = lambda ids: ", ".join(map(str, ids[max(0, i - 4):i + 4])) + (", ..." if len(ids) > i + 4 else "")  # noqa: E731
    return (f"encode: ids differ first at position {i}: expected {'the end' if want[i] < 0 else want[i]}, "
            f"got {'the end' if have[i] < 0 else have[i]}\n"
            f"expected {len(unpadded(want))} ids [... {show(unpadded(want))}]\n"
            f"got      {len(unpadded(have))} ids [... {show(unpadded(have))}]")


def _text_problem(what, want, have):
    expected, got = "".join(map(chr, unpadded(want))), "".join(map(chr, unpadded(have)))
    if expected == got:
        return None
    i = next((k for k, (a, b) in enumerate(zip(expected, got)) if a != b), min(len(expected), len(got)))
    lo = max(0, i - 20)
    return (f"{what} returned a different string (first difference at character {i})\n"
            f"expected {expected[lo:i + 20]!r}{' ...' if len(expected) > i + 20 else ''} ({len(expected)} characters)\n"
            f"got      {got[lo:i + 20]!r}{' ...' if len(got) > i + 20 else ''} ({len(got)} characters)")


def cases() -> list[Case]:
    import numpy as np

    from drillcli.solutions.bpe import train_bpe   # build time only: merges for the encode cases

    out: list[Case] = []

    def train(name, text, vocab_size, note=""):
        out.append(make_case(name, {"text": text, "vocab_size": vocab_size, "_mode": "train"}, note=note))

    def encode(name, text, merges, note=""):
        m = np.array(merges, dtype=np.int64).reshape(-1, 2)
        out.append(make_case(name, {"text": text, "merges": m, "_mode": "encode"}, note=note))

    def decode(name, ids, merges, note=""):
        m = np.array(merges, dtype=np.int64).reshape(-1, 2)
        out.append(make_case(name, {"ids": np.array(ids, dtype=np.int64), "merges": m, "_mode": "decode"}, note=note))

    rng = np.random.default_rng(0)
    train("readable-aaabdaaabac", "aaabdaaabac", 259,
          note="the example of the prompt: (97, 97) counts 4 (overlapping); then (97, 98) and (256, 97) tie at 2")
    train("readable-tie-rule", "abcabc", 258, note="(97, 98) and (98, 99) both occur twice: the smaller pair wins")
    train("readable-run-overlap", "aaaaa", 260,
          note="(97, 97) counts 4 but merges into 256 256 97; then no pair occurs twice: stop after 1 merge")
    train("no-merges-requested", "hello hello", 256, note="vocab_size = 256: no merges, the 256 byte tokens")
    train("empty-text", "", 300, note="empty text: no pairs, no merges")
    train("single-char", "x", 300, note="one byte: no pairs")
    train("all-pairs-unique", "abcdefg", 300, note="every pair occurs once: stop early, no merges")
    train("emoji", "😀😀😀 🚀🚀 😀🚀 😀😁😂🤣", 290, note="4-byte UTF-8 characters share their first bytes")
    train("cjk", "中文字中文字中文 字字中 文文中字", 275)
    train("control-and-latin1", "\x00\x00\x01\xff\xff\xfe\u0080\u0080\t\t\r\n\r\n\x00\x00", 270,
          note="NUL, control characters, U+00FF (2 bytes in UTF-8): bytes, not characters, are the units")
    train("medium-corpus", corpus(1, 20000), 420, note="a 20 kB corpus, 164 merges")
    train("binary-alphabet", "".join(rng.choice(list("ab "), size=3000)), 320,
          note="a 3-letter alphabet: long runs and many ties between counts")
    train("long-runs", "a" * 37 + "b" * 20 + "ab" * 15 + "a" * 9, 270,
          note="runs of one byte: overlapping occurrences must be merged left to right")
    train("whitespace", "  \n\n  \t \n   \n\n\n    \t\t", 266)

    readable_merges = train_bpe("aaabdaaabac", 259)[1]
    encode("encode-readable", "aaabdaaabac aaab", readable_merges,
           note="merges of the example: [(97, 97), (97, 98), (256, 257)]")
    encode("encode-rank-order", "abcab", [(98, 99), (97, 98), (97, 256)],
           note="merge rank decides, not position: (98, 99) has rank 0, so 'abc' -> 97 256 -> 258")
    encode("encode-empty", "", readable_merges, note="empty text encodes to []")
    encode("encode-no-merges", "héllo", [], note="no merges: the UTF-8 bytes")
    corpus_merges = train_bpe(corpus(2, 30000), 450)[1]
    encode("encode-unseen-text", corpus(3, 2000), corpus_merges, note="merges learned on another text")
    emoji_merges = train_bpe("😀😁😂🤣😃😄😅😆 " * 5, 262)[1]
    encode("roundtrip-split-emoji", "😀x😆 🤣😀", emoji_merges,
           note="tokens end in the middle of a character: decode must join the bytes before decoding UTF-8")
    encode("roundtrip-arbitrary-unicode",
           "Zürich ½ Ωμέγα العربية עברית 中文 日本語 한국어 👩‍👩‍👧 🏳️‍🌈 e\u0301 \ufeff\x00\x7f\u2028 \U0010ffff 𝔘𝔫𝔦",
           corpus_merges, note="combining marks, ZWJ sequences, BOM, NUL, U+10FFFF: decode(encode(s)) == s")
    encode("roundtrip-corpus", corpus(4, 5000), corpus_merges)
    decode("decode-invalid-utf8", [0x80, 0x41, 0xF0, 0x9F, 0x42, 0xFF, 0xC3], [],
           note="invalid UTF-8 (lone continuation byte, truncated 4-byte char, 0xFF): one U+FFFD each, errors='replace'")
    decode("decode-merged-tokens", [257, 100, 258, 97, 99], readable_merges,
           note="ids above 255 expand to their bytes")
    decode("decode-empty", [], readable_merges, note="no ids: the empty string")
    decode("decode-invalid-utf8-merged", [0xE2, 0x82, 257, 0xC3, 0xA9, 0xF0], readable_merges,
           note="a truncated 3-byte character (one U+FFFD), then 'ab' from a merged id, 'é', and a lone lead byte")
    # 250 KB: the naive trainer takes ~14x the reference there (a correct one ~1x), as at 1 MB
    out.append(make_case("speed-250kb", {"vocab_size": 512, "_corpus": {"seed": 0, "size": 250_000}, "_mode": "speed"},
                         timed=True, note="a 250 KB corpus and 256 merges: re-counting every pair after each merge is too slow"))
    return out
