def train_bpe(text, vocab_size):
    """Train a byte-level BPE tokenizer.

    text: str; vocab_size: int >= 256.
    Returns (vocab, merges): vocab dict[int, bytes] with ids 0 .. len(vocab) - 1 (0-255 are
    the single bytes), merges list[tuple[int, int]] in merge order (merge i creates id 256 + i).
    """
    raise NotImplementedError


def encode(text, merges):
    """text: str; merges: list of (a, b) pairs as returned by train_bpe. Returns list[int]."""
    raise NotImplementedError


def decode(ids, vocab):
    """ids: list[int]; vocab: dict[int, bytes]. Returns str (invalid UTF-8 -> U+FFFD)."""
    raise NotImplementedError
