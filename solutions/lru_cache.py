class _Node:
    __slots__ = ("key", "value", "prev", "next")

    def __init__(self, key=None, value=None):
        self.key, self.value, self.prev, self.next = key, value, None, None


class LRUCache:
    """Hash map key -> node + doubly linked list ordered from least to most recently used."""

    def __init__(self, capacity):
        self.capacity = capacity
        self.nodes = {}                        # key -> _Node
        self.head, self.tail = _Node(), _Node()  # sentinels: head.next is the LRU, tail.prev the MRU
        self.head.next, self.tail.prev = self.tail, self.head

    def _unlink(self, node):
        node.prev.next, node.next.prev = node.next, node.prev

    def _push_back(self, node):                # mark as most recently used
        node.prev, node.next = self.tail.prev, self.tail
        self.tail.prev.next = node
        self.tail.prev = node

    def get(self, key):
        node = self.nodes.get(key)
        if node is None:
            return -1
        self._unlink(node)
        self._push_back(node)
        return node.value

    def put(self, key, value):
        node = self.nodes.get(key)
        if node is not None:                   # update in place, refresh recency
            node.value = value
            self._unlink(node)
            self._push_back(node)
            return
        if len(self.nodes) == self.capacity:   # evict the least recently used
            lru = self.head.next
            self._unlink(lru)
            del self.nodes[lru.key]
        node = _Node(key, value)
        self.nodes[key] = node
        self._push_back(node)
