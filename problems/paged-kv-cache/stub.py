import math

import torch


class OutOfBlocksError(Exception):
    """Raised by append when the pool has fewer free blocks than the new tokens need."""


class PagedKVCache:
    """A paged key/value cache (vLLM's PagedAttention block table) for many sequences.

    __init__(num_blocks, block_size, num_heads, head_dim, dtype=torch.float32):
        self.k_pool, self.v_pool: (num_blocks, block_size, num_heads, head_dim), dtype.
        Token t of a sequence lives in slot t % block_size of block block_table[t // block_size].
    append(seq_id, k, v):   k, v (T, num_heads, head_dim), T >= 1. Fills the last block first, then takes
                            the lowest-numbered free block each time one is needed. If the new blocks needed
                            are more than the free blocks, raise OutOfBlocksError and change nothing.
    block_table(seq_id) -> list[int]     the sequence's block ids, in token order
    gather(seq_id) -> (k, v)             each (L, num_heads, head_dim), the L tokens in order
    free(seq_id)                         its blocks become free; the sequence is forgotten
    attention(seq_id, q) -> (num_heads, head_dim)   q (num_heads, head_dim) attends to all L tokens,
                            softmax(q . k / sqrt(head_dim)) per head
    """

    def __init__(self, num_blocks, block_size, num_heads, head_dim, dtype=torch.float32):
        raise NotImplementedError

    def append(self, seq_id, k, v):
        raise NotImplementedError

    def block_table(self, seq_id):
        raise NotImplementedError

    def gather(self, seq_id):
        raise NotImplementedError

    def free(self, seq_id):
        raise NotImplementedError

    def attention(self, seq_id, q):
        raise NotImplementedError
