import heapq
from collections import Counter, defaultdict


def train_bpe(text, vocab_size):
    ids = list(text.encode("utf-8"))                       # (n,) byte values; position i is a list node
    n = len(ids)
    nxt, prv = list(range(1, n)) + [-1], list(range(-1, n - 1))   # doubly linked list of live positions
    counts = Counter(zip(ids, ids[1:]))                    # pair -> occurrences (overlapping, as zip counts them)
    where = defaultdict(list)                              # pair -> left positions (may hold stale ones)
    for i, pair in enumerate(zip(ids, ids[1:])):
        where[pair].append(i)
    heap = [(-c, p) for p, c in counts.items()]            # max count first, ties: the smallest pair
    heapq.heapify(heap)

    vocab = {i: bytes([i]) for i in range(256)}
    merges = []
    while len(vocab) < vocab_size:
        while heap and -heap[0][0] != counts[heap[0][1]]:  # skip entries whose count has changed
            heapq.heappop(heap)
        if not heap or -heap[0][0] < 2:                    # no pair occurs twice: stop early
            break
        (a, b), new = heap[0][1], len(vocab)
        changed = {(a, b)}
        for i in sorted(set(where.pop((a, b)))):           # left to right: "aaa" merges once
            j = nxt[i]
            if ids[i] != a or j == -1 or ids[j] != b:      # stale, or consumed by an overlapping merge
                continue
            p, q = prv[i], nxt[j]
            if p != -1:                                    # (x, a) at p becomes (x, new) at p
                changed |= {(ids[p], a), (ids[p], new)}
                counts[ids[p], a] -= 1
                counts[ids[p], new] += 1
                where[ids[p], new].append(p)
            if q != -1:                                    # (b, y) at j becomes (new, y) at i
                changed |= {(b, ids[q]), (new, ids[q])}
                counts[b, ids[q]] -= 1
                counts[new, ids[q]] += 1
                where[new, ids[q]].append(i)
                prv[q] = i
            counts[a, b] -= 1
            ids[i], ids[j], nxt[i] = new, -1, q            # i becomes the merged token, j leaves the list
        for pair in changed:                               # one fresh heap entry per changed pair
            if counts[pair] > 0:
                heapq.heappush(heap, (-counts[pair], pair))
        merges.append((a, b))
        vocab[new] = vocab[a] + vocab[b]
    return vocab, merges


def encode(text, merges):
    rank = {pair: 256 + r for r, pair in enumerate(merges)}   # pair -> the id it merges into
    ids = list(text.encode("utf-8"))
    while len(ids) >= 2:
        pair = min(zip(ids, ids[1:]), key=lambda p: rank.get(p, float("inf")))   # earliest merge present
        if pair not in rank:
            break
        out, i = [], 0
        while i < len(ids):                                    # replace it left to right
            if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair:
                out.append(rank[pair])
                i += 2
            else:
                out.append(ids[i])
                i += 1
        ids = out
    return ids


def decode(ids, vocab):
    return b"".join(vocab[i] for i in ids).decode("utf-8", errors="replace")
