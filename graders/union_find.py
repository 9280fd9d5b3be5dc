"""Cases for union-find: long operation sequences replayed on the user's class.

A case is `init = {"n": n}` and `ops`, an int array of rows (op, a, b):
    0 = union(a, b)   1 = find(a)   2 = connected(a, b)   3 = count()
The run hook applies them in order and returns `results`, one int per op (find: the
root returned; union / connected: 0 or 1; count: the number of sets). find's root is
not unique, so `check` replays the ops and accepts any root that is a member of the
right set and stays the same for a set until a union changes that set.
"""

from drillcli.fixtures import Case, make_case

RETURNS = ("results",)
MAX_TIME_RATIO = 10.0
UNION, FIND, CONNECTED, COUNT = 0, 1, 2, 3
OP_NAMES = {UNION: "union", FIND: "find", CONNECTED: "connected", COUNT: "count"}


def _describe(op, a, b):
    if op == COUNT:
        return "count()"
    if op == FIND:
        return f"find({a})"
    return f"{OP_NAMES[op]}({a}, {b})"


def run(entry, kind, case, names):
    import numpy as np

    from drillcli.harness import WrongReturn

    uf = entry(**case.init)
    ops = np.asarray(case.inputs["ops"]).tolist()
    results = [0] * len(ops)
    for i, (op, a, b) in enumerate(ops):
        if op == UNION:
            r = uf.union(a, b)
        elif op == FIND:
            r = uf.find(a)
        elif op == CONNECTED:
            r = uf.connected(a, b)
        else:
            r = uf.count()
        if op in (UNION, CONNECTED):
            if not isinstance(r, (bool, np.bool_)):
                raise WrongReturn(f"op {i}: {_describe(op, a, b)} returned {type(r).__name__} {r!r}, expected a bool")
            results[i] = int(bool(r))
        else:
            if isinstance(r, (bool, np.bool_)) or not isinstance(r, (int, np.integer)):
                raise WrongReturn(f"op {i}: {_describe(op, a, b)} returned {type(r).__name__} {r!r}, expected an int")
            results[i] = int(r)
    return {"results": np.asarray(results, dtype=np.int64)}


def check(case, got):
    """Replay the ops with a plain union-find; validate every result."""
    import numpy as np

    ops = np.asarray(case.inputs["ops"]).tolist()
    want = np.asarray(case.outputs["results"]).tolist()
    have = np.asarray(got["results"]).tolist()
    n = case.init["n"]
    parent = list(range(n))

    def root(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    reps = {}          # canonical root of a set -> the representative the user's find returned for it
    for i, (op, a, b) in enumerate(ops):
        what = f"op {i}: {_describe(op, a, b)}"
        if op == FIND:
            r = have[i]
            if not 0 <= r < n:
                return f"{what} returned {r}, which is not an element (0 .. {n - 1})"
            if root(r) != root(a):
                return (f"{what} returned {r}, which is not in the set of {a}\n"
                        f"a representative must be a member of the element's own set")
            seen = reps.setdefault(root(a), r)
            if seen != r:
                return (f"{what} returned {r}, but find returned {seen} for the same set earlier "
                        f"with no union of that set in between\n"
                        f"the representative of a set may change only when a union merges it")
        elif have[i] != want[i]:
            expected = {UNION: lambda v: f"{bool(v)} ({a} and {b} were {'in different sets' if v else 'already in the same set'})",
                        CONNECTED: lambda v: f"{bool(v)}", COUNT: lambda v: f"{v}"}[op](want[i])
            shown = bool(have[i]) if op in (UNION, CONNECTED) else have[i]
            return f"{what} returned {shown}, expected {expected}\nfirst wrong result at op {i} of {len(ops)}"
        if op == UNION:
            ra, rb = root(a), root(b)
            if ra != rb:
                reps.pop(ra, None)
                reps.pop(rb, None)
                parent[ra] = rb
    return None


def _random_ops(rng, n, m, p_union=0.4, p_find=0.3, p_conn=0.2, locality=None):
    """m random ops on n elements; `locality` draws b near a (long thin components)."""
    import numpy as np

    kinds = rng.choice(4, size=m, p=[p_union, p_find, p_conn, 1 - p_union - p_find - p_conn])
    a = rng.integers(0, n, size=m)
    if locality:
        b = np.clip(a + rng.integers(-locality, locality + 1, size=m), 0, n - 1)
    else:
        b = rng.integers(0, n, size=m)
    b = np.where(kinds == FIND, 0, b)
    b = np.where(kinds == COUNT, 0, b)
    a = np.where(kinds == COUNT, 0, a)
    return np.stack([kinds, a, b], axis=1).astype(np.int32)


def _ops(rows):
    import numpy as np

    return np.asarray(rows, dtype=np.int32).reshape(-1, 3)


def cases() -> list[Case]:
    import numpy as np

    out: list[Case] = []

    def add(name, n, ops, note="", seed=None, timed=False):
        out.append(make_case(name, {"ops": _ops(ops)}, init={"n": n}, seed=seed, note=note, timed=timed))

    U, F, C, K = UNION, FIND, CONNECTED, COUNT
    add("readable-example", 5, [[U, 0, 1], [U, 2, 3], [C, 0, 1], [C, 1, 2], [K, 0, 0], [U, 1, 3], [C, 0, 2],
                                [U, 0, 3], [K, 0, 0], [F, 0, 0], [F, 3, 0], [F, 4, 0]],
        note="the example of the prompt")
    add("fresh-singletons", 4, [[K, 0, 0], [F, 0, 0], [F, 3, 0], [C, 1, 2], [C, 2, 2]],
        note="before any union: every element is its own set, connected(x, x) is True")
    add("union-same-element", 3, [[U, 1, 1], [K, 0, 0], [U, 0, 2], [U, 2, 0], [U, 0, 0], [K, 0, 0]],
        note="union(x, x) and a repeated union return False and leave count unchanged")
    add("single-element", 1, [[K, 0, 0], [F, 0, 0], [U, 0, 0], [C, 0, 0], [K, 0, 0]], note="n = 1")
    add("empty", 0, [[K, 0, 0]], note="n = 0: count() is 0")
    add("find-after-merge", 6, [[U, 0, 1], [F, 0, 0], [F, 1, 0], [U, 2, 3], [U, 1, 3], [F, 0, 0], [F, 2, 0],
                                [F, 3, 0], [F, 5, 0], [U, 4, 5], [U, 5, 0], [F, 4, 0], [F, 1, 0], [K, 0, 0]],
        note="find returns the same member for every element of a set")
    add("chain-both-directions", 8, [[U, i, i + 1] for i in range(0, 7, 2)] + [[U, i + 1, i + 2] for i in range(0, 5, 2)]
        + [[C, 0, 7], [K, 0, 0], [F, 7, 0], [F, 0, 0]],
        note="pairs then pairs of pairs: count 8 -> 4 -> 1")
    add("star", 10, [[U, 0, i] for i in range(1, 10)] + [[F, i, 0] for i in range(10)] + [[K, 0, 0]],
        note="everything joined to element 0")
    add("reverse-star", 10, [[U, i, 0] for i in range(9, 0, -1)] + [[C, i, 9 - i] for i in range(10)] + [[K, 0, 0]])

    specs = [  # name, seed, n, m, mix, locality, note
        ("random-small", 1, 10, 60, (0.4, 0.3, 0.2), None, ""),
        ("random-medium", 2, 100, 600, (0.4, 0.3, 0.2), None, ""),
        ("random-union-heavy", 3, 200, 1500, (0.7, 0.1, 0.15), None, "mostly unions: many return False late"),
        ("random-query-heavy", 4, 300, 2000, (0.15, 0.4, 0.4), None, "few unions, many finds and connected"),
        ("random-sparse", 5, 2000, 3000, (0.3, 0.35, 0.3), None, "n large compared to the unions: many singletons"),
        ("random-local", 6, 1000, 4000, (0.5, 0.25, 0.2), 3, "unions between neighbours: long thin components"),
        ("random-long", 7, 3000, 10000, (0.45, 0.25, 0.25), None, "a long sequence"),
        ("random-long-local", 8, 2000, 8000, (0.5, 0.25, 0.2), 5, ""),
        ("random-count-heavy", 9, 50, 500, (0.3, 0.1, 0.1), None, "count() after most operations"),
    ]
    for name, seed, n, m, (pu, pf, pc), loc, note in specs:
        rng = np.random.default_rng(seed)
        add(name, n, _random_ops(rng, n, m, pu, pf, pc, loc), note=note, seed=seed)

    # a random spanning order: after n-1 successful unions everything is one set
    rng = np.random.default_rng(10)
    n = 500
    perm = rng.permutation(n)
    rows = [[U, int(perm[i]), int(perm[rng.integers(0, i)])] for i in range(1, n)]
    rows += _random_ops(rng, n, 300, 0.3, 0.3, 0.3).tolist() + [[K, 0, 0]]
    add("merge-to-one", n, rows, seed=10, note="a random spanning tree: count ends at 1, every later union returns False")

    # scaling: without union by size/rank and without path compression, each of these builds a
    # chain of length n (which one depends on the direction of the naive link) and costs O(n^2)
    n = 30000
    star = [[U, 0, i] for i in range(1, n)]
    add("scaling-union-0-i", n, star + [[C, 0, n - 1]] * 5000 + [[K, 0, 0]], timed=True,
        note="union(0, i) for every i: hanging the root of a's set under b's root without sizes makes a chain")
    add("scaling-union-i-0", n, [[U, i, 0] for i in range(1, n)] + [[C, n - 1, 0]] * 5000 + [[K, 0, 0]], timed=True,
        note="union(i, 0) for every i: hanging b's root under a's root without sizes makes a chain")
    add("scaling-path-then-finds", n, [[U, i, i + 1] for i in range(n - 1)] + [[F, 0, 0]] * 10000, timed=True,
        note="union(i, i+1) then repeated find(0): without compression or sizes every find walks the chain")
    add("scaling-reverse-path-then-finds", n, [[U, i + 1, i] for i in range(n - 1)] + [[F, 0, 0]] * 10000, timed=True,
        note="union(i+1, i) then repeated find(0)")
    return out
