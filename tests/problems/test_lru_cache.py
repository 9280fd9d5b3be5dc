"""lru-cache: the reference agrees with an OrderedDict LRU, correct variants pass, realistic
bugs fail or are too slow."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

from drillcli.graders import lru_cache as grader
from tests.support import assert_rejected, assert_within_half_tolerance, describe, reference, stored_cases

PROBLEM = "lru-cache"

CORRECT = {
    "dict-insertion-order": """
        class LRUCache:
            def __init__(self, capacity):
                self.cap, self.d = capacity, {}
            def get(self, key):
                if key not in self.d:
                    return -1
                v = self.d.pop(key)
                self.d[key] = v                       # re-insert: now the newest
                return v
            def put(self, key, value):
                if key in self.d:
                    self.d.pop(key)
                elif len(self.d) == self.cap:
                    del self.d[next(iter(self.d))]    # the oldest
                self.d[key] = value
    """,
    "linked-list-without-sentinels": """
        class Node:
            def __init__(self, k, v):
                self.k, self.v, self.prev, self.next = k, v, None, None
        class LRUCache:
            def __init__(self, capacity):
                self.cap, self.map, self.first, self.last = capacity, {}, None, None
            def _remove(self, n):
                if n.prev: n.prev.next = n.next
                else: self.first = n.next
                if n.next: n.next.prev = n.prev
                else: self.last = n.prev
                n.prev = n.next = None
            def _append(self, n):
                n.prev = self.last
                if self.last: self.last.next = n
                else: self.first = n
                self.last = n
            def get(self, key):
                n = self.map.get(key)
                if n is None:
                    return -1
                self._remove(n); self._append(n)
                return n.v
            def put(self, key, value):
                if key in self.map:
                    n = self.map[key]; n.v = value
                    self._remove(n); self._append(n)
                    return
                if len(self.map) >= self.cap:
                    old = self.first
                    self._remove(old)
                    del self.map[old.k]
                n = Node(key, value)
                self.map[key] = n
                self._append(n)
    """,
    "array-backed-list-most-recent-at-head": """
        class LRUCache:
            # slots 0 and 1 are sentinels; the list runs head(0) -> most recent ... least recent -> tail(1)
            def __init__(self, capacity):
                self.cap = capacity
                self.prev, self.next = [0, 0], [1, 1]
                self.keys, self.vals = [None, None], [None, None]
                self.slot, self.free = {}, []
            def _unlink(self, i):
                p, n = self.prev[i], self.next[i]
                self.next[p], self.prev[n] = n, p
            def _push_front(self, i):
                first = self.next[0]
                self.prev[i], self.next[i] = 0, first
                self.prev[first] = i
                self.next[0] = i
            def get(self, key):
                i = self.slot.get(key)
                if i is None:
                    return -1
                self._unlink(i); self._push_front(i)
                return self.vals[i]
            def put(self, key, value):
                i = self.slot.get(key)
                if i is not None:
                    self.vals[i] = value
                    self._unlink(i); self._push_front(i)
                    return None
                if len(self.slot) == self.cap:
                    lru = self.prev[1]
                    self._unlink(lru)
                    del self.slot[self.keys[lru]]
                    self.free.append(lru)
                if self.free:
                    i = self.free.pop()
                else:
                    i = len(self.keys)
                    self.prev.append(0); self.next.append(0); self.keys.append(None); self.vals.append(None)
                self.keys[i], self.vals[i] = key, value
                self.slot[key] = i
                self._push_front(i)
    """,
    "deque-with-lazy-deletion": """
        from collections import deque
        class LRUCache:
            def __init__(self, capacity):
                self.cap, self.val, self.stamp, self.q, self.t = capacity, {}, {}, deque(), 0
            def _touch(self, key):
                self.t += 1
                self.stamp[key] = self.t
                self.q.append((self.t, key))
                if len(self.q) > 4 * self.cap + 16:      # compact stale entries, amortized O(1)
                    self.q = deque((t, k) for t, k in self.q if self.stamp.get(k) == t)
            def get(self, key):
                if key not in self.val:
                    return -1
                self._touch(key)
                return self.val[key]
            def put(self, key, value):
                if key not in self.val and len(self.val) == self.cap:
                    while True:                          # pop stale entries until the real oldest
                        t, k = self.q.popleft()
                        if self.stamp.get(k) == t:
                            del self.val[k], self.stamp[k]
                            break
                self.val[key] = value
                self._touch(key)
    """,
}

LINKED = """
class Node:
    __slots__ = ("k", "v", "prev", "next")
    def __init__(self, k=None, v=None):
        self.k, self.v = k, v
class LRUCache:
    def __init__(self, capacity):
        self.cap, self.map = capacity, {}
        self.head, self.tail = Node(), Node()
        self.head.next, self.tail.prev = self.tail, self.head
    def _unlink(self, n):
        n.prev.next, n.next.prev = n.next, n.prev
    def _push(self, n):
        n.prev, n.next = self.tail.prev, self.tail
        self.tail.prev.next = n
        self.tail.prev = n
    def get(self, key):
        if key not in self.map:
            return -1
        n = self.map[key]
        GET_TOUCH
        return n.v
    def put(self, key, value):
        PUT_BODY
"""
PUT_OK = """if key in self.map:
            n = self.map[key]; n.v = value
            self._unlink(n); self._push(n)
            return
        if len(self.map) == self.cap:
            old = self.head.next
            self._unlink(old); del self.map[old.k]
        n = Node(key, value); self.map[key] = n; self._push(n)"""
TOUCH_OK = "self._unlink(n); self._push(n)"


def linked(get_touch=TOUCH_OK, put_body=PUT_OK):
    return LINKED.replace("GET_TOUCH", get_touch).replace("PUT_BODY", put_body)


# (source, expected status or statuses)
BUGS = {
    "list-order-remove": ("""
        class LRUCache:
            def __init__(self, capacity):
                self.cap, self.d, self.order = capacity, {}, []
            def get(self, key):
                if key not in self.d:
                    return -1
                self.order.remove(key)                # O(capacity)
                self.order.append(key)
                return self.d[key]
            def put(self, key, value):
                if key in self.d:
                    self.order.remove(key)
                elif len(self.d) == self.cap:
                    del self.d[self.order.pop(0)]
                self.d[key] = value
                self.order.append(key)
    """, "too_slow"),
    "timestamps-min-scan": ("""
        class LRUCache:
            def __init__(self, capacity):
                self.cap, self.d, self.used, self.t = capacity, {}, {}, 0
            def get(self, key):
                if key not in self.d:
                    return -1
                self.t += 1; self.used[key] = self.t
                return self.d[key]
            def put(self, key, value):
                if key not in self.d and len(self.d) == self.cap:
                    old = min(self.used, key=self.used.get)   # O(capacity) per eviction
                    del self.d[old], self.used[old]
                self.t += 1; self.used[key] = self.t
                self.d[key] = value
    """, "too_slow"),
    "get-does-not-refresh": (linked(get_touch="pass"), "failed"),
    "evicts-most-recent": (linked(put_body=PUT_OK.replace("old = self.head.next", "old = self.tail.prev")), "failed"),
    "update-does-not-refresh": (linked(put_body=PUT_OK.replace(
        "n = self.map[key]; n.v = value\n            self._unlink(n); self._push(n)",
        "n = self.map[key]; n.v = value")), "failed"),
    "evicts-before-checking-existing-key": (linked(put_body="""if len(self.map) == self.cap:
            old = self.head.next
            self._unlink(old); del self.map[old.k]
        if key in self.map:
            n = self.map[key]; n.v = value
            self._unlink(n); self._push(n)
            return
        n = Node(key, value); self.map[key] = n; self._push(n)"""), "failed"),
    "capacity-off-by-one": (linked(put_body=PUT_OK.replace("len(self.map) == self.cap", "len(self.map) == self.cap - 1")),
                            ("failed", "error")),   # with capacity 1 it unlinks the tail sentinel
    "truthiness-of-value": ("""
        class LRUCache:
            def __init__(self, capacity):
                self.cap, self.d = capacity, {}
            def get(self, key):
                v = self.d.get(key)
                if not v:                             # value 0 is treated as missing
                    return -1
                del self.d[key]; self.d[key] = v
                return v
            def put(self, key, value):
                if key in self.d:
                    del self.d[key]
                elif len(self.d) == self.cap:
                    del self.d[next(iter(self.d))]
                self.d[key] = value
    """, "failed"),
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


def test_the_linked_template_is_correct(grade_source):
    verdict = grade_source(PROBLEM, linked())
    assert verdict.ok, describe(verdict)


def test_reference_matches_ordered_dict_on_every_case():
    LRUCache = reference(PROBLEM)
    for case in stored_cases(PROBLEM):
        cap = case.init["capacity"]
        cache, od = LRUCache(cap), OrderedDict()
        expected = []
        for op, key, value in grader.ops_of(case).tolist():
            if op == grader.PUT:
                assert cache.put(key, value) is None
                od[key] = value
                od.move_to_end(key)
                if len(od) > cap:
                    od.popitem(last=False)
                expected.append(0)
            else:
                assert cache.get(key) == od.get(key, -1), case.name
                if key in od:
                    od.move_to_end(key)
                expected.append(od.get(key, -1))
        np.testing.assert_array_equal(case.outputs["results"], expected, err_msg=case.name)
        assert grader.check(case, dict(case.outputs)) is None
