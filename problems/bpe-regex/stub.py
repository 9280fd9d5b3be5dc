import regex  # the third-party module (pip install regex): the stdlib `re` has no \p{L} / \p{N}

GPT2_SPLIT_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


def train_bpe(text, num_merges, special_tokens):
    """Train a byte-level BPE tokenizer on the GPT-2 pre-tokens of `text`.

    text: str; num_merges: int >= 0; special_tokens: list[str] (cut out of the text first).
    Returns (vocab, merges): merges list[tuple[int, int]] in merge order (merge r creates id
    256 + r); vocab dict[int, bytes] with ids 0 .. 256 + len(merges) + len(special_tokens) - 1:
    the 256 single bytes, one token per merge, then special_tokens[k] at 256 + len(merges) + k.
    """
    raise NotImplementedError


def encode(text, merges, special_tokens):
    """text: str; merges: list of (a, b) pairs; special_tokens: list[str]. Returns list[int]."""
    raise NotImplementedError


def decode(ids, vocab):
    """ids: list[int]; vocab: dict[int, bytes]. Returns str (invalid UTF-8 -> U+FFFD)."""
    raise NotImplementedError
