"""Cases for sequence packing. Documents are ragged, so a case stores them flat (`flat`, the
tokens of all documents) with their `lengths`; the run hook rebuilds the list of lists."""

from drillcli.fixtures import Case, make_case

RETURNS = ("tokens", "doc_ids", "position_ids", "attn_mask")


def run(entry, kind, case, names):
    import numpy as np

    from drillcli.harness import ModifiedInput, unpack

    flat = [int(t) for t in np.asarray(case.inputs["flat"]).tolist()]
    seqs, at = [], 0
    for n in np.asarray(case.inputs["lengths"]).astype(int).tolist():
        seqs.append(flat[at:at + n])
        at += n
    v = case.inputs
    before = [list(s) for s in seqs]
    out = unpack(entry(seqs, v["row_len"], v["eos_id"], v["pad_id"]), names)
    if seqs != before:
        raise ModifiedInput("your code modified the input sequences in place (append / pop / sort on them); "
                            "work on copies")
    return out


def cases() -> list[Case]:
    import numpy as np

    out: list[Case] = []

    def case(name, seqs, row_len, eos_id=0, pad_id=1, note="", seed=None):
        flat = [t for s in seqs for t in s]
        out.append(make_case(name, {"flat": flat, "lengths": [len(s) for s in seqs], "row_len": row_len,
                                    "eos_id": eos_id, "pad_id": pad_id}, seed=seed, note=note))

    def add(name, seed, n_docs, max_len, row_len, eos_id=0, pad_id=1, vocab=50, min_len=1, note=""):
        rng = np.random.default_rng(seed)
        seqs = [rng.integers(2, vocab, size=int(rng.integers(min_len, max_len + 1))).tolist() for _ in range(n_docs)]
        case(name, seqs, row_len, eos_id, pad_id, note, seed)

    docs = [[5, 6, 7], [8, 9], [10, 11, 12, 13]]
    case("readable-example", docs, 5, note="the example of the prompt: documents split across rows, last row padded")
    case("readable-exact-fit", docs, 4, note="12 stream tokens in rows of 4: no padding at all")
    case("one-document", [[3, 4, 5, 6, 7]], 8, note="one document, one row: 5 tokens, EOS, 2 pads")
    case("document-spans-three-rows", [[2, 3, 4, 5, 6, 7, 8, 9, 10, 11], [12]], 4,
         note="a 10-token document over three rows: positions restart at 0 in every row")
    case("empty-document", [[4, 5], [], [6, 7, 8]], 4,
         note="an empty document still contributes its EOS, with its own document id")
    case("no-documents", [], 6, note="no input at all: zero rows, shapes (0, 6) and (0, 6, 6)")
    case("row-len-1", [[4, 5], [6]], 1, note="rows of one token: every row is its own piece at position 0")
    case("eos-equals-pad", [[4, 5, 6], [7, 8]], 4, eos_id=0, pad_id=0,
         note="pad_id == eos_id (as with GPT-2): only doc_ids tell an EOS from padding")
    case("boundary-at-row-end", [[2, 3, 4], [5, 6, 7]], 4,
         note="each document plus EOS fills a row exactly: no split")
    case("eos-starts-a-row", [[2, 3, 4, 5], [6, 7]], 4,
         note="the EOS of document 0 is the first token of row 1: it belongs to document 0, position 0")
    case("single-token-documents", [[i] for i in range(10, 17)], 5, note="seven one-token documents")
    case("large-ids", [[50000, 50001], [50255]], 3, eos_id=50256, pad_id=50257,
         note="GPT-2 sized ids: eos 50256, pad 50257")
    add("random-short-docs", 1, 8, 5, 8)
    add("random-long-docs", 2, 3, 30, 8, note="documents longer than a row")
    add("random-mixed", 3, 12, 12, 16)
    add("random-with-empty-docs", 4, 10, 4, 6, min_len=0, note="some documents are empty")
    add("random-wide-rows", 5, 5, 20, 32)
    add("random-narrow-rows", 6, 6, 9, 3)
    add("random-eos-is-pad", 7, 7, 7, 10, eos_id=0, pad_id=0)
    add("random-many-docs", 8, 40, 6, 24, note="forty documents")
    add("random-prime-row", 9, 9, 11, 13)
    add("random-big-vocab", 10, 6, 15, 12, eos_id=2, pad_id=3, vocab=32000)
    case("t5-ids-pad-0", [[4, 5, 6], [7, 8]], 4, eos_id=1, pad_id=0,
         note="T5's ids, pad 0 and eos 1: 0 is a pad id like any other, not 'no pad id'")
    add("random-pad-0", 11, 6, 7, 10, eos_id=1, pad_id=0, note="pad_id 0, eos_id 1: pad with 0")
    return out
