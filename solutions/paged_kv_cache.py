import heapq
import math

import torch


class OutOfBlocksError(Exception):
    """append needs more new blocks than the pool has free."""


class PagedKVCache:
    def __init__(self, num_blocks, block_size, num_heads, head_dim, dtype=torch.float32):
        self.block_size = block_size
        shape = (num_blocks, block_size, num_heads, head_dim)
        self.k_pool = torch.zeros(shape, dtype=dtype)   # (num_blocks, block_size, H, D)
        self.v_pool = torch.zeros(shape, dtype=dtype)
        self.free_blocks = list(range(num_blocks))       # a min-heap: heappop gives the lowest free block
        self.tables = {}                                 # seq_id -> [block ids], in token order
        self.lengths = {}                                # seq_id -> number of tokens stored

    def append(self, seq_id, k, v):                      # k, v: (T, H, D)
        table, n = self.tables.get(seq_id, []), self.lengths.get(seq_id, 0)
        T, bs = k.shape[0], self.block_size
        need = (n + T + bs - 1) // bs - len(table)       # new blocks beyond the sequence's last one
        if need > len(self.free_blocks):                 # check first: a refused append changes nothing
            raise OutOfBlocksError(f"sequence {seq_id} needs {need} new blocks, {len(self.free_blocks)} are free")
        table = table + [heapq.heappop(self.free_blocks) for _ in range(need)]
        pos = torch.arange(n, n + T)                     # the new tokens' positions in the sequence
        blocks, slots = torch.tensor(table)[pos // bs], pos % bs
        self.k_pool[blocks, slots] = k                   # token t lives at slot t % bs of block table[t // bs]
        self.v_pool[blocks, slots] = v
        self.tables[seq_id], self.lengths[seq_id] = table, n + T

    def block_table(self, seq_id):
        return list(self.tables[seq_id])

    def gather(self, seq_id):
        L, table = self.lengths[seq_id], self.tables[seq_id]
        k = self.k_pool[table].flatten(0, 1)[:L]         # (len(table) * bs, H, D) -> (L, H, D)
        v = self.v_pool[table].flatten(0, 1)[:L]
        return k, v

    def free(self, seq_id):
        for b in self.tables.pop(seq_id):
            heapq.heappush(self.free_blocks, b)
        del self.lengths[seq_id]

    def attention(self, seq_id, q):                      # q: (H, D), one decoding query
        k, v = self.gather(seq_id)                       # (L, H, D)
        scores = torch.einsum("hd,lhd->hl", q, k) / math.sqrt(q.shape[-1])   # (H, L)
        return torch.einsum("hl,lhd->hd", torch.softmax(scores, dim=-1), v)   # (H, D)
