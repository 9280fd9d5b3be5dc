class UnionFind:
    """Disjoint sets over 0..n-1: union by size + path compression (path halving)."""

    def __init__(self, n):
        self.parent = list(range(n))   # parent[x] == x  <=>  x is a root
        self.size = [1] * n            # size[r]: number of elements under root r
        self.sets = n

    def find(self, x):
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]   # path halving: point x at its grandparent
            x = parent[x]
        return x

    def union(self, a, b):
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        if self.size[ra] < self.size[rb]:
            ra, rb = rb, ra                 # hang the smaller tree under the larger root
        self.parent[rb] = ra
        self.size[ra] += self.size[rb]
        self.sets -= 1
        return True

    def connected(self, a, b):
        return self.find(a) == self.find(b)

    def count(self):
        return self.sets
