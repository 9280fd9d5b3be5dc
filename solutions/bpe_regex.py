from collections import Counter

import regex  # the stdlib `re` has no \p{L} / \p{N}

GPT2_SPLIT_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


def split_special(text, special_tokens):
    """[(piece, is_special), ...]: the text cut at special tokens (leftmost match; the longest
    special token wins where several start at the same character)."""
    if not special_tokens:                                   # "|".join([]) would match everywhere
        return [(text, False)] if text else []
    longest_first = sorted(special_tokens, key=len, reverse=True)
    parts = regex.split("(" + "|".join(map(regex.escape, longest_first)) + ")", text)
    return [(p, i % 2 == 1) for i, p in enumerate(parts) if p]   # odd parts are the captured specials


def pre_tokens(text, special_tokens):
    """The text's pre-tokens (GPT-2 regex chunks, special tokens left out), in order."""
    return [w for piece, special in split_special(text, special_tokens) if not special
            for w in regex.findall(GPT2_SPLIT_PATTERN, piece)]


def merge(ids, pair, new):
    """ids with every occurrence of pair replaced by new, left to right, without overlap."""
    out, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair:
            out.append(new)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def train_bpe(text, num_merges, special_tokens):
    words = Counter(tuple(w.encode("utf-8")) for w in pre_tokens(text, special_tokens))   # byte tuple -> occurrences
    vocab = {i: bytes([i]) for i in range(256)}
    merges = []
    for new in range(256, 256 + num_merges):
        counts = Counter()                                   # pair -> occurrences, inside pre-tokens only
        for word, n in words.items():
            for pair in zip(word, word[1:]):
                counts[pair] += n
        if not counts or max(counts.values()) < 2:           # no pair occurs twice: stop early
            break
        # most frequent; ties: the greater (vocab[a], vocab[b]), compared as byte strings
        a, b = max(counts, key=lambda p: (counts[p], vocab[p[0]], vocab[p[1]]))
        words = {tuple(merge(list(word), (a, b), new)): n for word, n in words.items()}
        merges.append((a, b))
        vocab[new] = vocab[a] + vocab[b]
    for s in special_tokens:                                 # special tokens follow the merges
        vocab[len(vocab)] = s.encode("utf-8")
    return vocab, merges


def encode(text, merges, special_tokens):
    rank = {pair: 256 + r for r, pair in enumerate(merges)}              # pair -> the id it merges into
    special_id = {s: 256 + len(merges) + k for k, s in enumerate(special_tokens)}
    ids = []
    for piece, special in split_special(text, special_tokens):
        if special:
            ids.append(special_id[piece])
            continue
        for word in regex.findall(GPT2_SPLIT_PATTERN, piece):
            w = list(word.encode("utf-8"))
            while len(w) >= 2:                                           # lowest-rank pair first
                pair = min(zip(w, w[1:]), key=lambda p: rank.get(p, float("inf")))
                if pair not in rank:
                    break
                w = merge(w, pair, rank[pair])
            ids.extend(w)
    return ids


def decode(ids, vocab):
    return b"".join(vocab[i] for i in ids).decode("utf-8", errors="replace")
