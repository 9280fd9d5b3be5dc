"""union-find: the reference agrees with a plain replay (and scipy's DisjointSet), correct
variants pass, realistic bugs fail or are too slow."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.cluster.hierarchy import DisjointSet

from drillcli.graders import union_find as grader
from tests.support import assert_rejected, assert_within_half_tolerance, describe, mutate, reference, stored_cases

PROBLEM = "union-find"

# the reference's algorithm (path halving, union by size), the base several bugs are made from
HALVING_SIZE = """
        class UnionFind:
            def __init__(self, n):
                self.parent = list(range(n)); self.size = [1] * n; self.sets = n
            def find(self, x):
                while self.parent[x] != x:
                    self.parent[x] = self.parent[self.parent[x]]
                    x = self.parent[x]
                return x
            def union(self, a, b):
                ra, rb = self.find(a), self.find(b)
                if ra == rb:
                    return False
                if self.size[ra] < self.size[rb]:
                    ra, rb = rb, ra
                self.parent[rb] = ra
                self.size[ra] += self.size[rb]
                self.sets -= 1
                return True
            def connected(self, a, b):
                return self.find(a) == self.find(b)
            def count(self):
                return self.sets
    """

CORRECT = {
    "recursive-full-compression-rank": """
        class UnionFind:
            def __init__(self, n):
                self.p = list(range(n)); self.rank = [0] * n; self.c = n
            def find(self, x):
                if self.p[x] != x:
                    self.p[x] = self.find(self.p[x])
                return self.p[x]
            def union(self, a, b):
                a, b = self.find(a), self.find(b)
                if a == b:
                    return False
                if self.rank[a] < self.rank[b]:
                    a, b = b, a
                self.p[b] = a
                if self.rank[a] == self.rank[b]:
                    self.rank[a] += 1
                self.c -= 1
                return True
            def connected(self, a, b):
                return self.find(a) == self.find(b)
            def count(self):
                return self.c
    """,
    "two-pass-compression-size-attach-a-under-b": """
        class UnionFind:
            def __init__(self, n):
                self.parent = list(range(n)); self.size = [1] * n; self.sets = n
            def find(self, x):
                root = x
                while self.parent[root] != root:
                    root = self.parent[root]
                while self.parent[x] != root:          # second pass: everything points at the root
                    self.parent[x], x = root, self.parent[x]
                return root
            def union(self, a, b):
                ra, rb = self.find(a), self.find(b)
                if ra == rb:
                    return False
                if self.size[ra] > self.size[rb]:       # ties: a's root goes under b's root
                    ra, rb = rb, ra
                self.parent[ra] = rb
                self.size[rb] += self.size[ra]
                self.sets -= 1
                return True
            def connected(self, a, b):
                return self.find(a) == self.find(b)
            def count(self):
                return self.sets
    """,
    "numpy-arrays-path-splitting": """
        import numpy as np
        class UnionFind:
            def __init__(self, n):
                self.parent = np.arange(n); self.rank = np.zeros(n, dtype=np.int64); self.n_sets = n
            def find(self, x):
                p = self.parent
                while p[x] != x:                         # path splitting
                    nxt = p[x]
                    p[x] = p[nxt]
                    x = nxt
                return x                                 # may be a numpy integer
            def union(self, a, b):
                ra, rb = self.find(a), self.find(b)
                if ra == rb:
                    return False
                if self.rank[ra] < self.rank[rb]:
                    ra, rb = rb, ra
                self.parent[rb] = ra
                self.rank[ra] += self.rank[ra] == self.rank[rb]
                self.n_sets -= 1
                return True
            def connected(self, a, b):
                return bool(self.find(a) == self.find(b))
            def count(self):
                return self.n_sets
    """,
    "dict-parent-larger-index-root": """
        class UnionFind:
            def __init__(self, n):
                self.parent = {i: i for i in range(n)}
                self.size = {i: 1 for i in range(n)}
            def find(self, x):
                path = []
                while self.parent[x] != x:
                    path.append(x)
                    x = self.parent[x]
                for y in path:
                    self.parent[y] = x
                return x
            def union(self, a, b):
                ra, rb = self.find(a), self.find(b)
                if ra == rb:
                    return False
                small, big = sorted((ra, rb), key=lambda r: (self.size[r], r))
                self.parent[small] = big
                self.size[big] += self.size.pop(small)
                return True
            def connected(self, a, b):
                return self.find(a) == self.find(b)
            def count(self):
                return len(self.size)
    """,
}

NAIVE = """
    class UnionFind:
        def __init__(self, n):
            self.parent = list(range(n)); self.sets = n
        def find(self, x):
            while self.parent[x] != x:
                x = self.parent[x]
            return x
        def union(self, a, b):
            ra, rb = self.find(a), self.find(b)
            if ra == rb:
                return False
            {link}
            self.sets -= 1
            return True
        def connected(self, a, b):
            return self.find(a) == self.find(b)
        def count(self):
            return self.sets
"""

# (source, expected status or statuses)
BUGS = {
    "naive-no-rank-no-compression": (NAIVE.replace("{link}", "self.parent[ra] = rb"), "too_slow"),
    "naive-other-direction": (NAIVE.replace("{link}", "self.parent[rb] = ra"), "too_slow"),
    "quick-find-relabel-all": ("""
        class UnionFind:
            def __init__(self, n):
                self.id = list(range(n)); self.sets = n
            def find(self, x):
                return self.id[x]
            def union(self, a, b):
                ia, ib = self.id[a], self.id[b]
                if ia == ib:
                    return False
                self.id = [ib if v == ia else v for v in self.id]     # O(n) per union
                self.sets -= 1
                return True
            def connected(self, a, b):
                return self.id[a] == self.id[b]
            def count(self):
                return self.sets
    """, "too_slow"),
    "link-elements-not-roots": (mutate(HALVING_SIZE, ("""
                ra, rb = self.find(a), self.find(b)
                if ra == rb:
                    return False
                if self.size[ra] < self.size[rb]:
                    ra, rb = rb, ra
                self.parent[rb] = ra
                self.size[ra] += self.size[rb]
""", """
                if self.find(a) == self.find(b):
                    return False
                self.parent[a] = b                    # should link the roots
""")), "failed"),
    "count-decremented-on-same-set": (mutate(
        HALVING_SIZE, ("                self.sets -= 1\n", ""),
        ("                if ra == rb:\n", "                self.sets -= 1                         # even when ra == rb\n"
                                          "                if ra == rb:\n")), "failed"),
    "union-always-true": ("""
        class UnionFind:
            def __init__(self, n):
                self.parent = list(range(n)); self.size = [1] * n; self.sets = n
            def find(self, x):
                while self.parent[x] != x:
                    self.parent[x] = self.parent[self.parent[x]]
                    x = self.parent[x]
                return x
            def union(self, a, b):
                ra, rb = self.find(a), self.find(b)
                if ra != rb:
                    if self.size[ra] < self.size[rb]:
                        ra, rb = rb, ra
                    self.parent[rb] = ra
                    self.size[ra] += self.size[rb]
                    self.sets -= 1
                return True
            def connected(self, a, b):
                return self.find(a) == self.find(b)
            def count(self):
                return self.sets
    """, "failed"),
    "recursive-find-returns-x": ("""
        class UnionFind:
            def __init__(self, n):
                self.p = list(range(n)); self.rank = [0] * n; self.c = n
            def find(self, x):
                if self.p[x] != x:
                    self.p[x] = self.find(self.p[x])
                return x                               # should return self.p[x]
            def union(self, a, b):
                a, b = self.find(a), self.find(b)
                if a == b:
                    return False
                if self.rank[a] < self.rank[b]:
                    a, b = b, a
                self.p[b] = a
                self.rank[a] += self.rank[a] == self.rank[b]
                self.c -= 1
                return True
            def connected(self, a, b):
                return self.find(a) == self.find(b)
            def count(self):
                return self.c
    """, ("failed", "error")),   # wrong values; the broken links also overflow the recursion on some cases
    "connected-compares-parents": (mutate(
        HALVING_SIZE, ("return self.find(a) == self.find(b)",
                       "return self.parent[a] == self.parent[b]   # parents are not roots")), "failed"),
    "union-forgets-return": ("""
        class UnionFind:
            def __init__(self, n):
                self.parent = list(range(n)); self.size = [1] * n; self.sets = n
            def find(self, x):
                while self.parent[x] != x:
                    self.parent[x] = self.parent[self.parent[x]]
                    x = self.parent[x]
                return x
            def union(self, a, b):
                ra, rb = self.find(a), self.find(b)
                if ra != rb:
                    if self.size[ra] < self.size[rb]:
                        ra, rb = rb, ra
                    self.parent[rb] = ra
                    self.size[ra] += self.size[rb]
                    self.sets -= 1
            def connected(self, a, b):
                return self.find(a) == self.find(b)
            def count(self):
                return self.sets
    """, "wrong_return"),
}


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass(grade_source, name):
    assert_within_half_tolerance(grade_source(PROBLEM, CORRECT[name]))


@pytest.mark.parametrize("name", BUGS)
def test_bugs_fail(grade_source, name):
    source, status = BUGS[name]
    verdict = grade_source(PROBLEM, source)
    assert verdict.status in ((status,) if isinstance(status, str) else status), describe(verdict)
    assert_rejected(verdict)


def test_reference_matches_scipy_disjoint_set_on_every_case():
    UnionFind = reference(PROBLEM)
    for case in stored_cases(PROBLEM):
        n = case.init["n"]
        uf, ds = UnionFind(n), DisjointSet(range(n))
        for i, (op, a, b) in enumerate(case.inputs["ops"].tolist()):
            if op == grader.UNION:
                assert uf.union(a, b) == ds.merge(a, b), (case.name, i)
            elif op == grader.FIND:
                assert ds.connected(uf.find(a), a), (case.name, i)
            elif op == grader.CONNECTED:
                assert uf.connected(a, b) == ds.connected(a, b), (case.name, i)
            else:
                assert uf.count() == ds.n_subsets, (case.name, i)


def test_check_accepts_the_reference_and_rejects_a_wrong_representative():
    case = next(c for c in stored_cases(PROBLEM) if c.name == "find-after-merge")
    assert grader.check(case, dict(case.outputs)) is None
    results = case.outputs["results"].copy()
    ops = case.inputs["ops"]
    first_find = int(np.flatnonzero(ops[:, 0] == grader.FIND)[0])
    results[first_find] = 5                               # element 5 is not in 0's set then
    assert "not in the set" in grader.check(case, {"results": results})
