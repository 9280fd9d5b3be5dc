"""top-k: the reference agrees with numpy and torch.topk, correct variants pass (any order),
realistic bugs fail, are too slow, or are refused."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from drillcli.graders import top_k as grader
from tests.support import assert_rejected, assert_within_half_tolerance, describe, stored_cases

PROBLEM = "top-k"

CORRECT = {
    "quickselect-iterative-three-way": """
        import random
        def kth_largest(nums, k):
            target = len(nums) - k                 # index in ascending order
            lo_vals = nums
            while True:
                pivot = random.choice(lo_vals)
                less = [x for x in lo_vals if x < pivot]
                equal = sum(1 for x in lo_vals if x == pivot)
                if target < len(less):
                    lo_vals = less
                elif target < len(less) + equal:
                    return pivot
                else:
                    target -= len(less) + equal
                    lo_vals = [x for x in lo_vals if x > pivot]
        def top_k(nums, k):
            kth = kth_largest(list(nums), k)
            above = [x for x in nums if x > kth]
            return above + [kth] * (k - len(above))
    """,
    "heapify-all-negated-pop-k": """
        import heapq
        def top_k(nums, k):
            heap = [-x for x in nums]              # max-heap by negation, O(n) heapify
            heapq.heapify(heap)
            return [-heapq.heappop(heap) for _ in range(k)]   # O(k log n), descending
        def kth_largest(nums, k):
            return top_k(nums, k)[-1]
    """,
    "hand-written-min-heap": """
        def _sift_down(h, i):
            n = len(h)
            while True:
                small, l, r = i, 2 * i + 1, 2 * i + 2
                if l < n and h[l] < h[small]:
                    small = l
                if r < n and h[r] < h[small]:
                    small = r
                if small == i:
                    return
                h[i], h[small] = h[small], h[i]
                i = small
        def top_k(nums, k):
            h = list(nums[:k])
            for i in range(k // 2 - 1, -1, -1):
                _sift_down(h, i)
            for x in nums[k:]:
                if x > h[0]:
                    h[0] = x
                    _sift_down(h, 0)
            return h
        def kth_largest(nums, k):
            return top_k(nums, k)[0]
    """,
    "hoare-quickselect-in-place-random-pivot": """
        import random
        def _select(a, idx):
            lo, hi = 0, len(a) - 1
            while lo < hi:
                pivot = a[random.randint(lo, hi)]
                i, j = lo, hi
                while i <= j:                      # Hoare partition: equal keys split evenly
                    while a[i] < pivot:
                        i += 1
                    while a[j] > pivot:
                        j -= 1
                    if i <= j:
                        a[i], a[j] = a[j], a[i]
                        i += 1
                        j -= 1
                if idx <= j:
                    hi = j
                elif idx >= i:
                    lo = i
                else:
                    return a[idx]
            return a[idx]
        def kth_largest(nums, k):
            return _select(nums, len(nums) - k)
        def top_k(nums, k):
            _select(nums, len(nums) - k)           # everything right of n-k is >= it
            return nums[len(nums) - k:]
    """,
}

GOOD_HEAP = """
import heapq
def top_k(nums, k):
    heap = nums[:k]
    heapq.heapify(heap)
    for x in nums[k:]:
        if x > heap[0]:
            heapq.heapreplace(heap, x)
    return heap
"""

# (source, expected status or statuses)
BUGS = {
    "sorted-slice": ("""
        def top_k(nums, k):
            return sorted(nums, reverse=True)[:k]
        def kth_largest(nums, k):
            return sorted(nums, reverse=True)[k - 1]
    """, "forbidden"),
    "list-sort": ("""
        def top_k(nums, k):
            nums.sort()
            return nums[-k:]
        def kth_largest(nums, k):
            nums.sort()
            return nums[-k]
    """, "forbidden"),
    "kth-distinct-value": (GOOD_HEAP + """
def kth_largest(nums, k):
    return top_k(list(set(nums)), k)[0]          # duplicates must count
""", ("failed", "error")),
    "kth-off-by-one": (GOOD_HEAP + """
def kth_largest(nums, k):
    return top_k(nums, k + 1)[0] if k < len(nums) else top_k(nums, k)[0]
""", "failed"),
    "min-heap-keeps-smallest": ("""
        import heapq
        def top_k(nums, k):
            heap = []
            for x in nums:
                heapq.heappush(heap, x)
                if len(heap) > k:
                    heapq.heappop(heap)          # fine so far ...
            return heap
        def kth_largest(nums, k):
            heap = list(nums)
            heapq.heapify(heap)
            for _ in range(k - 1):
                heapq.heappop(heap)              # pops the smallest: this is the k-th smallest
            return heap[0]
    """, "failed"),
    "max-heap-without-negation": ("""
        import heapq
        def top_k(nums, k):
            heap = nums[:k]
            heapq.heapify(heap)
            for x in nums[k:]:
                if x < heap[0]:                  # treats the min-heap as a max-heap
                    heapq.heapreplace(heap, x)
            return heap
        def kth_largest(nums, k):
            return top_k(nums, k)[0]
    """, "failed"),
    "returns-indices": ("""
        import heapq
        def top_k(nums, k):
            heap = [(x, i) for i, x in enumerate(nums[:k])]
            heapq.heapify(heap)
            for i in range(k, len(nums)):
                if nums[i] > heap[0][0]:
                    heapq.heapreplace(heap, (nums[i], i))
            return [i for _, i in heap]
        def kth_largest(nums, k):
            return min(nums[i] for i in top_k(nums, k))
    """, "failed"),
    "quickselect-first-pivot": ("""
        def _select(a, idx):
            pivot = a[0]
            less = [x for x in a if x < pivot]
            equal = [x for x in a if x == pivot]
            if idx < len(less):
                return _select(less, idx)
            if idx < len(less) + len(equal):
                return pivot
            return _select([x for x in a if x > pivot], idx - len(less) - len(equal))
        def kth_largest(nums, k):
            return _select(nums, len(nums) - k)
        def top_k(nums, k):
            kth = kth_largest(list(nums), k)
            above = [x for x in nums if x > kth]
            return above + [kth] * (k - len(above))
    """, ("too_slow", "error")),       # quadratic on sorted input, or RecursionError first
    "quickselect-two-way-partition": ("""
        import random
        def kth_largest(nums, k):
            a, lo, hi, idx = nums, 0, len(nums) - 1, len(nums) - k
            while True:
                p = random.randint(lo, hi)
                a[p], a[hi] = a[hi], a[p]
                store = lo
                for i in range(lo, hi):          # Lomuto: equal keys all go left
                    if a[i] <= a[hi]:
                        a[store], a[i] = a[i], a[store]
                        store += 1
                a[store], a[hi] = a[hi], a[store]
                if store == idx:
                    return a[store]
                if store < idx:
                    lo = store + 1
                else:
                    hi = store - 1
        def top_k(nums, k):
            kth = kth_largest(list(nums), k)
            above = [x for x in nums if x > kth]
            return above + [kth] * (k - len(above))
    """, "too_slow"),
    "k-passes-of-max": ("""
        def top_k(nums, k):
            rest, out = list(nums), []
            for _ in range(k):
                m = max(rest)
                rest.remove(m)
                out.append(m)
            return out
        def kth_largest(nums, k):
            return top_k(nums, k)[-1]
    """, "too_slow"),
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


def test_missing_kth_largest_is_reported(grade_source):
    verdict = grade_source(PROBLEM, GOOD_HEAP)
    assert verdict.status == "wrong_return" and "kth_largest" in describe(verdict), describe(verdict)


def test_reference_matches_numpy_and_torch_topk_on_every_case():
    for case in stored_cases(PROBLEM):
        nums = (np.asarray(case.inputs["nums"], dtype=np.float64) if "nums" in case.inputs
                else np.asarray(grader._numbers(case.inputs["_gen"]), dtype=np.float64))
        k = case.inputs["k"]
        descending = np.sort(nums)[::-1]
        np.testing.assert_array_equal(np.sort(case.outputs["top"])[::-1], descending[:k], err_msg=case.name)
        assert case.outputs["kth"] == descending[k - 1], case.name
        values, _ = torch.topk(torch.from_numpy(nums), k)
        np.testing.assert_array_equal(np.sort(case.outputs["top"]), np.sort(values.numpy()), err_msg=case.name)
        assert grader.check(case, dict(case.outputs)) is None


def test_check_accepts_any_order_and_rejects_a_wrong_multiset():
    case = next(c for c in stored_cases(PROBLEM) if c.name == "readable-duplicates-count")
    top = case.outputs["top"]
    assert grader.check(case, {"top": top[::-1].copy(), "kth": case.outputs["kth"]}) is None
    wrong = top.copy()
    wrong[wrong == 5.0] = 3.0
    assert "multiset" in grader.check(case, {"top": wrong, "kth": case.outputs["kth"]})
