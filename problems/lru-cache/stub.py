class LRUCache:
    """A fixed-capacity key -> value cache that evicts the least recently used key.

    get(key) -> int       the value, or -1 if key is absent; marks key as most recently used
    put(key, value)       insert or update, marks key as most recently used; when a new key
                          would exceed the capacity, first evict the least recently used key
    Both in O(1).
    """

    def __init__(self, capacity: int):
        raise NotImplementedError

    def get(self, key: int) -> int:
        raise NotImplementedError

    def put(self, key: int, value: int) -> None:
        raise NotImplementedError
