"""Cases for the LRU cache: operation sequences replayed on the user's class.

A case is `init = {"capacity": c}` and `ops`, rows (op, key, value): 0 = put(key, value),
1 = get(key). Large timed sequences are stored as a compact recipe (`_gen`) and rebuilt
with numpy. The run hook returns `results`: get's return value, and 0 for a put (whose
return value must be None).
"""

from drillcli.fixtures import Case, make_case

RETURNS = ("results",)
MAX_TIME_RATIO = 10.0
PUT, GET = 0, 1


def _describe(op, key, value):
    return f"put({key}, {value})" if op == PUT else f"get({key})"


def ops_of(case):
    """The (m, 3) int array of operations of a case."""
    import numpy as np

    if "ops" in case.inputs:
        return np.asarray(case.inputs["ops"])
    g = case.inputs["_gen"]
    c, m, kind = g["capacity"], g["m"], g["kind"]
    rng = np.random.default_rng(g["seed"])
    fill = np.stack([np.zeros(c), np.arange(c), np.arange(c)], axis=1)
    if kind == "touch-recent":        # fill, then get keys among the most recently used ones
        keys = c - 1 - rng.integers(0, 8, size=m)
        rest = np.stack([np.ones(m), keys, np.zeros(m)], axis=1)
    elif kind == "evict-every-put":   # fill, then new keys only: every put evicts
        rest = np.stack([np.zeros(m), c + np.arange(m), np.arange(m)], axis=1)
    elif kind == "mixed":             # fill, then random gets / puts over twice the capacity
        op = rng.integers(0, 2, size=m)
        rest = np.stack([op, rng.integers(0, 2 * c, size=m), rng.integers(0, 10**6, size=m)], axis=1)
    else:
        raise ValueError(kind)
    return np.concatenate([fill, rest]).astype(np.int64)


def run(entry, kind, case, names):
    import numpy as np

    from drillcli.harness import WrongReturn

    cache = entry(**case.init)
    ops = ops_of(case).tolist()
    results = [0] * len(ops)
    for i, (op, key, value) in enumerate(ops):
        if op == PUT:
            r = cache.put(key, value)
            if r is not None:
                raise WrongReturn(f"op {i}: put({key}, {value}) returned {r!r}; put must return None")
        else:
            r = cache.get(key)
            if isinstance(r, (bool, np.bool_)) or not isinstance(r, (int, np.integer)):
                raise WrongReturn(f"op {i}: get({key}) returned {type(r).__name__} {r!r}, expected an int (-1 if absent)")
            results[i] = int(r)
    return {"results": np.asarray(results, dtype=np.int64)}


def check(case, got):
    """Exact comparison, reported as the first get whose result is wrong, with recent history."""
    import numpy as np

    want, have = np.asarray(case.outputs["results"]), np.asarray(got["results"])
    bad = np.flatnonzero(want != have)
    if bad.size == 0:
        return None
    ops = ops_of(case)
    i = int(bad[0])
    recent = "; ".join(_describe(*ops[j].tolist()) for j in range(max(0, i - 8), i))
    why = "absent (evicted or never put)" if want[i] == -1 else f"present with value {want[i]}"
    return (f"op {i}: {_describe(*ops[i].tolist())} returned {have[i]}, expected {want[i]} (the key is {why})\n"
            f"capacity {case.init['capacity']}; {bad.size} wrong get results in {len(ops)} ops\n"
            f"the ops just before: {recent}")


def _random_ops(rng, m, key_range, p_get=0.5):
    import numpy as np

    op = (rng.random(m) < p_get).astype(np.int64)
    keys = rng.integers(0, key_range, size=m)
    values = np.where(op == PUT, rng.integers(0, 1000, size=m), 0)
    return np.stack([op, keys, values], axis=1)


def cases() -> list[Case]:
    import numpy as np

    out: list[Case] = []
    P, G = PUT, GET

    def add(name, capacity, ops, note="", seed=None):
        out.append(make_case(name, {"ops": np.asarray(ops, dtype=np.int32).reshape(-1, 3)},
                             init={"capacity": capacity}, seed=seed, note=note))

    def add_gen(name, capacity, m, kind, seed, note):
        out.append(make_case(name, {"_gen": {"capacity": capacity, "m": m, "kind": kind, "seed": seed}},
                             init={"capacity": capacity}, seed=seed, timed=True, note=note))

    add("readable-example", 2, [[P, 1, 1], [P, 2, 2], [G, 1, 0], [P, 3, 3], [G, 2, 0], [P, 4, 4],
                                [G, 1, 0], [G, 3, 0], [G, 4, 0]], note="the example of the prompt")
    add("get-missing", 3, [[G, 5, 0], [P, 5, 50], [G, 5, 0], [G, 6, 0]], note="get on an absent key returns -1")
    add("capacity-1", 1, [[P, 1, 10], [G, 1, 0], [P, 2, 20], [G, 1, 0], [G, 2, 0], [P, 2, 21], [G, 2, 0]],
        note="capacity 1: every new key evicts the previous one")
    add("update-does-not-evict", 2, [[P, 1, 1], [P, 2, 2], [P, 1, 10], [G, 1, 0], [G, 2, 0]],
        note="put on an existing key updates it: no eviction, the size stays 2")
    add("update-refreshes-recency", 2, [[P, 1, 1], [P, 2, 2], [P, 1, 10], [P, 3, 3], [G, 2, 0], [G, 1, 0], [G, 3, 0]],
        note="put(1, 10) makes 1 the most recent, so put(3, 3) evicts 2")
    add("get-refreshes-recency", 3, [[P, 1, 1], [P, 2, 2], [P, 3, 3], [G, 1, 0], [P, 4, 4], [G, 2, 0], [G, 1, 0],
                                     [G, 3, 0], [G, 4, 0]], note="get(1) makes 1 the most recent, so put(4, 4) evicts 2")
    add("miss-does-not-refresh", 2, [[P, 1, 1], [P, 2, 2], [G, 9, 0], [P, 3, 3], [G, 1, 0], [G, 2, 0]],
        note="a get that misses changes nothing")
    add("value-zero-and-key-zero", 2, [[P, 0, 0], [G, 0, 0], [P, 1, 0], [P, 2, 5], [G, 0, 0], [G, 1, 0]],
        note="key 0 and value 0 are ordinary (no truthiness tests)")
    add("value-zero-refreshes", 2, [[P, 5, 0], [P, 6, 6], [G, 5, 0], [P, 7, 7], [G, 6, 0], [G, 5, 0], [G, 7, 0]],
        note="get(5) finds value 0 (a hit, not a miss), so 5 becomes the most recent and put(7, 7) evicts 6")
    add("same-key-repeated", 2, [[P, 7, i] for i in range(5)] + [[G, 7, 0], [P, 8, 8], [P, 9, 9], [G, 7, 0]],
        note="repeated puts of one key count once")
    add("fill-then-scan", 4, [[P, k, 10 * k] for k in range(6)] + [[G, k, 0] for k in range(6)],
        note="6 puts into capacity 4: keys 0 and 1 were evicted")
    add("cyclic-thrash", 3, [[P, k % 4, k] for k in range(12)] + [[G, k, 0] for k in range(4)],
        note="cycling over capacity + 1 keys evicts every time (the classic LRU worst case)")
    specs = [("random-small", 1, 2, 60, 5, 0.5), ("random-cap-3", 2, 3, 200, 8, 0.5),
             ("random-get-heavy", 3, 5, 400, 12, 0.8), ("random-put-heavy", 4, 5, 400, 12, 0.2),
             ("random-large-capacity", 5, 100, 2000, 150, 0.5), ("random-capacity-exceeds-keys", 6, 50, 500, 30, 0.5),
             ("random-long", 7, 64, 6000, 128, 0.6), ("random-wide-keys", 8, 20, 3000, 10**6, 0.3)]
    for name, seed, cap, m, keys, pg in specs:
        rng = np.random.default_rng(seed)
        note = "never full: nothing is evicted" if keys <= cap else ""
        add(name, cap, _random_ops(rng, m, keys, pg), seed=seed, note=note)
    add_gen("scaling-touch-recent", 20_000, 30_000, "touch-recent", 11,
            "full cache of 20,000, get on recent keys: a list-based order pays O(capacity) per list.remove")
    add_gen("scaling-evict-every-put", 20_000, 20_000, "evict-every-put", 12,
            "every put evicts: scanning for the oldest key (min over timestamps) is O(capacity) per put")
    add_gen("scaling-mixed", 20_000, 60_000, "mixed", 13, "random gets and puts over a full cache")
    return out
