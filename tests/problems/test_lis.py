"""lis: any valid longest answer passes, O(n^2) is reported as too slow."""

from __future__ import annotations

import bisect

import pytest

from tests.support import assert_near_miss, assert_rejected, assert_within_half_tolerance, describe, reference, stored_cases

PROBLEM = "lis"

CORRECT = {
    "manual-binary-search": """
        def longest_increasing_subsequence(nums):
            tails, idx, prev = [], [], [None] * len(nums)
            for i, x in enumerate(nums):
                lo, hi = 0, len(tails)
                while lo < hi:
                    mid = (lo + hi) // 2
                    if nums[tails[mid]] < x:
                        lo = mid + 1
                    else:
                        hi = mid
                if lo == len(tails):
                    tails.append(i)
                else:
                    tails[lo] = i
                prev[i] = tails[lo - 1] if lo else None
            out, i = [], tails[-1] if tails else None
            while i is not None:
                out.append(nums[i]); i = prev[i]
            return out[::-1]
    """,
    "fenwick-over-ranks": """
        def longest_increasing_subsequence(nums):
            ranks = {v: r + 1 for r, v in enumerate(sorted(set(nums)))}
            n = len(ranks)
            tree = [(0, -1)] * (n + 1)          # (best length, index) over a prefix of ranks
            prev, best = [-1] * len(nums), (0, -1)
            for i, x in enumerate(nums):
                r, q = ranks[x] - 1, (0, -1)
                while r > 0:
                    q = max(q, tree[r]); r -= r & -r
                cur = (q[0] + 1, i)
                prev[i] = q[1]
                best = max(best, cur)
                r = ranks[x]
                while r <= n:
                    tree[r] = max(tree[r], cur); r += r & -r
            out, i = [], best[1]
            while i != -1:
                out.append(nums[i]); i = prev[i]
            return out[::-1]
    """,
    "from-the-right-different-answer": """
        import bisect
        def longest_increasing_subsequence(nums):
            # longest decreasing subsequence of the reversed list, built from the right:
            # often a different (equally long) answer than the usual left-to-right one
            neg = [-x for x in reversed(nums)]
            tails, idx, prev = [], [], [-1] * len(neg)
            for i, x in enumerate(neg):
                j = bisect.bisect_left(tails, x)
                if j == len(tails):
                    tails.append(x); idx.append(i)
                else:
                    tails[j] = x; idx[j] = i
                prev[i] = idx[j - 1] if j else -1
            out, i = [], idx[-1] if idx else -1
            while i != -1:
                out.append(-neg[i]); i = prev[i]
            return out
    """,
    "numpy-searchsorted-then-tolist": """
        import numpy as np
        def longest_increasing_subsequence(nums):
            n = len(nums)
            if n == 0:
                return []
            a = np.asarray(nums, dtype=np.int64)
            tails, tidx, prev = np.empty(n, np.int64), np.empty(n, np.int64), np.full(n, -1, np.int64)
            size = 0
            for i in range(n):
                j = int(np.searchsorted(tails[:size], a[i], side="left"))
                tails[j], tidx[j] = a[i], i
                prev[i] = tidx[j - 1] if j > 0 else -1
                size = max(size, j + 1)
            out, i = [], int(tidx[size - 1])
            while i != -1:
                out.append(i); i = int(prev[i])
            return a[out[::-1]].tolist()
    """,
    "lengths-then-walk-back-from-the-right": """
        from bisect import bisect_left
        def longest_increasing_subsequence(nums):
            tails, length = [], []
            for x in nums:
                j = bisect_left(tails, x)
                tails[j:j + 1] = [x]
                length.append(j + 1)
            need, bound, out = len(tails), float("inf"), []
            for i in range(len(nums) - 1, -1, -1):
                if need and length[i] == need and nums[i] < bound:
                    out.append(nums[i]); bound = nums[i]; need -= 1
            return out[::-1]
    """,
    "bisect-with-key-and-deque": """
        from bisect import bisect_left
        from collections import deque
        def longest_increasing_subsequence(nums):
            piles, back = [], {}
            for i, x in enumerate(nums):
                j = bisect_left(piles, x, key=lambda t: nums[t])
                back[i] = piles[j - 1] if j else None
                if j == len(piles):
                    piles.append(i)
                else:
                    piles[j] = i
            res, i = deque(), piles[-1] if piles else None
            while i is not None:
                res.appendleft(nums[i]); i = back[i]
            return list(res)
    """,
    "returns-a-tuple": """
        import bisect
        def longest_increasing_subsequence(nums):
            tails, tidx, prev = [], [], [None] * len(nums)
            for i, x in enumerate(nums):
                j = bisect.bisect_left(tails, x)
                tails[j:j + 1], tidx[j:j + 1] = [x], [i]
                prev[i] = tidx[j - 1] if j else None
            seq, i = [], tidx[-1] if tidx else None
            while i is not None:
                seq.append(nums[i]); i = prev[i]
            return tuple(reversed(seq))
    """,
    "segment-tree-over-ranks": """
        def longest_increasing_subsequence(nums):
            rank = {v: r for r, v in enumerate(sorted(set(nums)))}
            size = 1
            while size < max(len(rank), 1):
                size *= 2
            tree = [(0, -1)] * (2 * size)               # best (length, index) per node
            prev, best = [-1] * len(nums), (0, -1)
            for i, x in enumerate(nums):
                lo, hi, q = size, size + rank[x], (0, -1)   # max over ranks [0, rank[x])
                while lo < hi:
                    if lo & 1:
                        q = max(q, tree[lo]); lo += 1
                    if hi & 1:
                        hi -= 1; q = max(q, tree[hi])
                    lo //= 2; hi //= 2
                cur = (q[0] + 1, i)
                prev[i], best = q[1], max(best, cur)
                p = size + rank[x]
                tree[p] = max(tree[p], cur); p //= 2
                while p:
                    tree[p] = max(tree[2 * p], tree[2 * p + 1]); p //= 2
            out, i = [], best[1]
            while i != -1:
                out.append(nums[i]); i = prev[i]
            return out[::-1]
    """,
}

BUGS = {
    "bisect-right-allows-equal": """
        import bisect
        def longest_increasing_subsequence(nums):
            tails, idx, prev = [], [], [-1] * len(nums)
            for i, x in enumerate(nums):
                j = bisect.bisect_right(tails, x)
                if j == len(tails):
                    tails.append(x); idx.append(i)
                else:
                    tails[j] = x; idx[j] = i
                prev[i] = idx[j - 1] if j else -1
            out, i = [], idx[-1] if idx else -1
            while i != -1:
                out.append(nums[i]); i = prev[i]
            return out[::-1]
    """,
    "returns-tails-array": """
        import bisect
        def longest_increasing_subsequence(nums):
            tails = []
            for x in nums:
                j = bisect.bisect_left(tails, x)
                if j == len(tails):
                    tails.append(x)
                else:
                    tails[j] = x
            return tails
    """,
    "reconstruction-drops-first": """
        import bisect
        def longest_increasing_subsequence(nums):
            tails, idx, prev = [], [], [-1] * len(nums)
            for i, x in enumerate(nums):
                j = bisect.bisect_left(tails, x)
                if j == len(tails):
                    tails.append(x); idx.append(i)
                else:
                    tails[j] = x; idx[j] = i
                prev[i] = idx[j - 1] if j else -1
            out, i = [], idx[-1] if idx else -1
            while i != -1 and prev[i] != -1:
                out.append(nums[i]); i = prev[i]
            return out[::-1]
    """,
    "returns-indices": """
        import bisect
        def longest_increasing_subsequence(nums):
            tails, idx, prev = [], [], [-1] * len(nums)
            for i, x in enumerate(nums):
                j = bisect.bisect_left(tails, x)
                if j == len(tails):
                    tails.append(x); idx.append(i)
                else:
                    tails[j] = x; idx[j] = i
                prev[i] = idx[j - 1] if j else -1
            out, i = [], idx[-1] if idx else -1
            while i != -1:
                out.append(i); i = prev[i]
            return out[::-1]
    """,
    "greedy-extension": """
        def longest_increasing_subsequence(nums):
            out = []
            for x in nums:
                if not out or x > out[-1]:
                    out.append(x)
            return out
    """,
    "bisect-on-value-index-pairs": """
        import bisect
        def longest_increasing_subsequence(nums):
            tails, prev = [], [-1] * len(nums)          # (value, index): ties broken by index
            for i, x in enumerate(nums):
                j = bisect.bisect_left(tails, (x, i))
                tails[j:j + 1] = [(x, i)]
                prev[i] = tails[j - 1][1] if j else -1
            out, i = [], tails[-1][1] if tails else -1
            while i != -1:
                out.append(nums[i]); i = prev[i]
            return out[::-1]
    """,
    "predecessor-stored-by-value": """
        import bisect
        def longest_increasing_subsequence(nums):
            tails, parent = [], {}
            for x in nums:
                j = bisect.bisect_left(tails, x)
                parent[x] = tails[j - 1] if j else None
                tails[j:j + 1] = [x]
            out, v = [], tails[-1] if tails else None
            while v is not None:
                out.append(v); v = parent[v]
            return out[::-1]
    """,
    "predecessor-is-the-replaced-tail": """
        import bisect
        def longest_increasing_subsequence(nums):
            tails, idx, prev = [], [], [-1] * len(nums)
            for i, x in enumerate(nums):
                j = bisect.bisect_left(tails, x)
                if j == len(tails):
                    prev[i] = idx[-1] if idx else -1
                    tails.append(x); idx.append(i)
                else:
                    prev[i] = idx[j]
                    tails[j] = x; idx[j] = i
            out, i = [], idx[-1] if idx else -1
            while i != -1:
                out.append(nums[i]); i = prev[i]
            return out[::-1]
    """,
    "walk-back-from-the-last-element": """
        import bisect
        def longest_increasing_subsequence(nums):
            tails, idx, prev = [], [], [-1] * len(nums)
            for i, x in enumerate(nums):
                j = bisect.bisect_left(tails, x)
                tails[j:j + 1], idx[j:j + 1] = [x], [i]
                prev[i] = idx[j - 1] if j else -1
            out, i = [], len(nums) - 1
            while i != -1:
                out.append(nums[i]); i = prev[i]
            return out[::-1]
    """,
    "last-value-placed-at-each-length": """
        import bisect
        def longest_increasing_subsequence(nums):
            tails, last = [], {}
            for x in nums:
                j = bisect.bisect_left(tails, x)
                tails[j:j + 1] = [x]
                last[j] = x
            return [last[j] for j in range(len(tails))]
    """,
    "forgot-to-reverse": """
        import bisect
        def longest_increasing_subsequence(nums):
            tails, idx, prev = [], [], [-1] * len(nums)
            for i, x in enumerate(nums):
                j = bisect.bisect_left(tails, x)
                tails[j:j + 1], idx[j:j + 1] = [x], [i]
                prev[i] = idx[j - 1] if j else -1
            out, i = [], idx[-1] if idx else -1
            while i != -1:
                out.append(nums[i]); i = prev[i]
            return out
    """,
    "binary-search-upper-mid-off-by-one": """
        def longest_increasing_subsequence(nums):
            tails, idx, prev = [], [], [-1] * len(nums)
            for i, x in enumerate(nums):
                if not tails or x > tails[-1]:
                    j = len(tails)
                    tails.append(x); idx.append(i)
                else:
                    lo, hi = 0, len(tails) - 1
                    while lo < hi:
                        mid = (lo + hi + 1) // 2
                        if tails[mid] < x:
                            lo = mid
                        else:
                            hi = mid - 1
                    j = lo
                    tails[j] = x; idx[j] = i
                prev[i] = idx[j - 1] if j else -1
            out, i = [], idx[-1] if idx else -1
            while i != -1:
                out.append(nums[i]); i = prev[i]
            return out[::-1]
    """,
    "longest-contiguous-run": """
        def longest_increasing_subsequence(nums):
            # the longest increasing run of neighbours: linear time, so it fails on values alone
            best_start, best_len, start = 0, 0, 0
            for i in range(len(nums)):
                if i and nums[i] <= nums[i - 1]:
                    start = i
                if i - start + 1 > best_len:
                    best_start, best_len = start, i - start + 1
            return nums[best_start:best_start + best_len]
    """,
}

LINEAR_SCAN = """
    def longest_increasing_subsequence(nums):
        tails, idx, prev = [], [], [-1] * len(nums)
        for i, x in enumerate(nums):
            j = 0
            while j < len(tails) and tails[j] < x:   # linear scan instead of a binary search
                j += 1
            if j == len(tails):
                tails.append(x); idx.append(i)
            else:
                tails[j] = x; idx[j] = i
            prev[i] = idx[j - 1] if j else -1
        out, i = [], idx[-1] if idx else -1
        while i != -1:
            out.append(nums[i]); i = prev[i]
        return out[::-1]
"""

QUADRATIC = """
    def longest_increasing_subsequence(nums):
        n = len(nums)
        best, prev = [1] * n, [-1] * n
        for i in range(n):
            for j in range(i):
                if nums[j] < nums[i] and best[j] + 1 > best[i]:
                    best[i], prev[i] = best[j] + 1, j
        if not n:
            return []
        i = max(range(n), key=best.__getitem__)
        out = []
        while i != -1:
            out.append(nums[i]); i = prev[i]
        return out[::-1]
"""


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass(grade_source, name):
    assert_within_half_tolerance(grade_source(PROBLEM, CORRECT[name]))


@pytest.mark.parametrize("name", BUGS)
def test_bugs_fail(grade_source, name):
    verdict = grade_source(PROBLEM, BUGS[name])
    assert verdict.status == "failed", describe(verdict)
    assert_rejected(verdict)


def test_bisect_right_is_named_as_non_decreasing(grade_source):
    assert_near_miss(grade_source(PROBLEM, BUGS["bisect-right-allows-equal"]), PROBLEM, "non-decreasing")


def test_returning_the_length_is_a_type_error(grade_source):
    verdict = grade_source(PROBLEM, "def longest_increasing_subsequence(nums):\n    return len(nums)\n")
    failure = verdict.first_failure()
    assert failure.kind == "type" and "a list" in failure.message


def test_quadratic_solution_is_reported_too_slow(grade_source):
    verdict = grade_source(PROBLEM, QUADRATIC)
    # On a loaded machine the second scaling case can reach the grade's overall time limit
    # before its own budget: still only the scaling cases fail, each for taking too long.
    assert verdict.status in ("too_slow", "timeout"), describe(verdict)
    slow = [c for c in verdict.cases if c.status != "pass"]
    assert [c.name for c in slow] == ["scaling-long-answer-50000", "scaling-200000"]
    assert "too slow" in slow[0].message and "reference" in slow[0].message
    assert all("too slow" in c.message or "time limit" in c.message for c in slow)


def test_linear_scan_of_the_tails_is_reported_too_slow(grade_source):
    verdict = grade_source(PROBLEM, LINEAR_SCAN)
    assert verdict.status == "too_slow", describe(verdict)
    assert "scaling-long-answer-50000" in [c.name for c in verdict.cases if c.status != "pass"]


def _lis_length(nums: list[int]) -> int:
    tails: list[int] = []
    for x in nums:
        j = bisect.bisect_left(tails, x)
        tails[j:j + 1] = [x]
    return len(tails)


def test_reference_is_a_valid_longest_subsequence_on_every_case():
    for case in stored_cases(PROBLEM):
        nums = case.inputs["nums"].tolist()
        answer = reference(PROBLEM)(nums)
        assert len(answer) == _lis_length(nums), case.name
        assert all(a < b for a, b in zip(answer, answer[1:])), case.name
        it = iter(nums)
        assert all(any(x == v for x in it) for v in answer), case.name
        if len(nums) <= 12:  # brute force over all subsets on the small cases
            from itertools import combinations
            best = max((k for k in range(len(nums) + 1) for c in combinations(nums, k)
                        if all(a < b for a, b in zip(c, c[1:]))), default=0)
            assert len(answer) == best, case.name
