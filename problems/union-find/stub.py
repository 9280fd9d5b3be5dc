class UnionFind:
    """Disjoint-set union over the elements 0 .. n-1, each starting in its own set.

    find(x) -> int           the representative (root) of x's set
    union(a, b) -> bool      merge the sets of a and b; True if they were different sets
    connected(a, b) -> bool  whether a and b are in the same set
    count() -> int           the number of disjoint sets
    Every operation must run in near-constant amortized time.
    """

    def __init__(self, n: int):
        raise NotImplementedError

    def find(self, x: int) -> int:
        raise NotImplementedError

    def union(self, a: int, b: int) -> bool:
        raise NotImplementedError

    def connected(self, a: int, b: int) -> bool:
        raise NotImplementedError

    def count(self) -> int:
        raise NotImplementedError
