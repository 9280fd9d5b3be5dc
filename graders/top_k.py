"""Cases for top-k: `kth_largest(nums, k)` and `top_k(nums, k)` from the same file.

The run hook calls both (entry is top_k; kth_largest is taken from the same module) and
refuses sorting at run time: builtins.sorted is replaced while the user's code runs and
nums is a list whose .sort() raises. The k largest may come back in any order, so
`check` compares them as a multiset. Timed cases catch O(n·k) selection and quickselect
with a fixed pivot or a two-way partition (sorted, reverse-sorted and all-equal inputs).
"""

from drillcli.fixtures import Case, make_case

RETURNS = ("top", "kth")
MAX_TIME_RATIO = 10.0


def _numbers(gen):
    """A large input from a compact recipe (keeps the fixture small)."""
    import numpy as np

    n, kind = gen["n"], gen["kind"]
    rng = np.random.default_rng(gen["seed"])
    if kind == "random":
        return rng.integers(-10**9, 10**9, size=n).tolist()
    if kind == "ascending":
        return sorted(rng.integers(-10**6, 10**6, size=n).tolist())      # (np.sort is guarded in the worker)
    if kind == "descending":
        return sorted(rng.integers(-10**6, 10**6, size=n).tolist(), reverse=True)
    if kind == "all-equal":
        return [7] * n
    if kind == "few-distinct":
        return rng.integers(0, 3, size=n).tolist()
    raise ValueError(kind)


def _refusing_sort():
    from drillcli import guard

    def refuse(what):
        def _raise(*args, **kwargs):
            message = f"{what} is forbidden in this problem: select the k largest with a heap or quickselect"
            guard.VIOLATIONS.append(message)
            raise guard.ForbiddenCall(message)
        return _raise

    class Numbers(list):
        sort = refuse("list.sort")

    return Numbers, refuse("sorted")


def _as_values(value, what, length=None):
    import numpy as np

    from drillcli.harness import WrongReturn

    if isinstance(value, (bool, np.bool_)) or (length is None and not isinstance(value, (int, float, np.integer, np.floating))):
        raise WrongReturn(f"{what} returned {type(value).__name__}, expected a number")
    if length is None:
        return np.asarray(float(value))
    if not isinstance(value, (list, tuple, np.ndarray)):
        raise WrongReturn(f"{what} returned {type(value).__name__}, expected a list of {length} values")
    if len(value) != length:
        raise WrongReturn(f"{what} returned {len(value)} values, expected k = {length}")
    return np.asarray([float(v) for v in value], dtype=np.float64)


def run(entry, kind, case, names):
    import builtins

    import numpy as np

    from drillcli.harness import WrongReturn

    kth_fn = getattr(entry, "__globals__", {}).get("kth_largest")   # from the same file as top_k
    if kth_fn is None:
        raise WrongReturn("your file must define kth_largest(nums, k) as well as top_k(nums, k)")
    nums = np.asarray(case.inputs["nums"]).tolist() if "nums" in case.inputs else _numbers(case.inputs["_gen"])
    k = case.inputs["k"]
    Numbers, refused_sorted = _refusing_sort()
    original = builtins.sorted
    builtins.sorted = refused_sorted
    try:
        top = entry(Numbers(nums), k)
        kth = kth_fn(Numbers(nums), k)
    finally:
        builtins.sorted = original
    return {"top": _as_values(top, f"top_k(nums, k={k})", k), "kth": _as_values(kth, f"kth_largest(nums, k={k})")}


def check(case, got):
    import numpy as np

    k = case.inputs["k"]
    want_top, have_top = np.sort(case.outputs["top"])[::-1], np.sort(got["top"])[::-1]
    if not np.array_equal(want_top, have_top):
        i = int(np.flatnonzero(want_top != have_top)[0])
        return (f"top_k(nums, k={k}) is not the multiset of the k largest values\n"
                f"sorted descending, value {i} is {have_top[i]:g}, expected {want_top[i]:g}\n"
                f"expected (sorted) {_show(want_top)}\ngot (sorted)      {_show(have_top)}")
    if got["kth"] != case.outputs["kth"]:
        return f"kth_largest(nums, k={k}) returned {float(got['kth']):g}, expected {float(case.outputs['kth']):g}"
    return None


def _show(values, limit=12):
    shown = ", ".join(f"{v:g}" for v in values[:limit])
    return f"[{shown}{', ...' if len(values) > limit else ''}]"


def cases() -> list[Case]:
    import numpy as np

    out: list[Case] = []

    def add(name, nums, k, note="", seed=None):
        out.append(make_case(name, {"nums": list(nums), "k": k}, seed=seed, note=note))

    def add_gen(name, n, kind, k, seed, note):
        out.append(make_case(name, {"_gen": {"n": n, "kind": kind, "seed": seed}, "k": k}, seed=seed,
                             note=f"n = {n:,}: {note}", timed=True))

    add("readable-example", [3, 1, 5, 12, 2, 11, 5], 3, note="the example of the prompt")
    add("readable-duplicates-count", [3, 1, 5, 12, 2, 11, 5], 4, note="duplicates count: the 4th largest is 5 again")
    add("k-equals-1", [4, -2, 9, 0], 1, note="k = 1: the maximum")
    add("k-equals-n", [4, -2, 9, 0, 9], 5, note="k = n: every value; the k-th largest is the minimum")
    add("single-element", [42], 1)
    add("all-equal-small", [5, 5, 5, 5, 5, 5], 3)
    add("negatives", [-3, -1, -7, -2, -9], 2)
    add("ascending-small", list(range(1, 11)), 4)
    add("descending-small", list(range(10, 0, -1)), 4)
    add("top-ties-at-boundary", [1, 8, 3, 8, 8, 2, 8], 2, note="the k-th and (k+1)-th largest are equal")
    add("floats", [0.5, -1.25, 3.75, 3.5, 1e-3, -2.0, 3.75], 3, note="float values with a duplicate")
    add("floats-with-inf", [1.0, float("inf"), -float("inf"), 2.5, 0.0], 3, note="inf and -inf are ordinary values")
    add("large-magnitudes", [10**15, -10**15, 3, 10**15 - 1, 2**40], 2)
    for i, (n, k, lo, hi) in enumerate([(50, 7, -100, 100), (200, 1, 0, 10), (500, 250, -10**6, 10**6),
                                        (1000, 999, -5, 5), (333, 30, -10**9, 10**9)]):
        rng = np.random.default_rng(100 + i)
        add(f"random-{i}", rng.integers(lo, hi, size=n).tolist(), k, seed=100 + i,
            note="few distinct values: many ties" if hi - lo <= 20 else "")
    rng = np.random.default_rng(110)
    add("random-floats", np.round(rng.normal(size=400), 6).tolist(), 40, seed=110)
    add_gen("scaling-random-large-k", 200_000, "random", 1_000, 1,
            "k = 1000: selecting by k passes of max() or a sorted insert, O(n·k), is too slow")
    add_gen("scaling-ascending-median", 20_000, "ascending", 10_000, 2,
            "sorted input, k = n/2: quickselect with a first/last-element pivot degenerates to O(n^2)")
    add_gen("scaling-descending-median", 20_000, "descending", 10_000, 3, "reverse-sorted input, k = n/2")
    add_gen("scaling-all-equal", 20_000, "all-equal", 10_000, 4,
            "all values equal: quickselect without a three-way partition degenerates to O(n^2)")
    add_gen("scaling-few-distinct", 100_000, "few-distinct", 30_000, 5, "values in {0, 1, 2}, k = 30,000")
    return out
