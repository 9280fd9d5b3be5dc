"""Cases for the paged KV cache: scripts of operations replayed on the user's class.

A case is `init` = {num_blocks, block_size, num_heads, head_dim} and `_ops`, rows
(op, seq_id, n): append n tokens, gather, block_table, free or attention. The keys and
values appended are taken in order from `_k` and `_v` (rows of (num_heads, head_dim), a
refused append consumes its rows too), the attention queries in order from `_q`. The
pool dtype is the dtype of `_k`, passed to the constructor as `dtype`.

The run hook records every method's result, op by op:
    append_raised   (n_append,)                 1 where append raised OutOfBlocksError
    tables          (n_table, num_blocks + 1)   block_table(seq), padded with -1
    gather_lengths  (n_gather,)                 number of tokens gather returned
    gathered_k, _v  (n_gather, cap, H, D)       what gather returned, zero-padded to cap = num_blocks * block_size
    pool_k, pool_v  (n_gather, cap, H, D)       read from k_pool / v_pool through the user's own block table
                                                at the same moment: slot t % bs of block table[t // bs]
    attn_out        (n_attn, H, D)              attention(seq, q)
`check` walks the ops in order and reports the first one whose result is wrong.

A sequence the user's own appends never created (they raised where the reference did not)
is not touched: its reads are recorded as placeholders (-2 in the table, length -1, zeros),
so the verdict names the append that went wrong rather than a KeyError further on.
"""


from drillcli.fixtures import Case, make_case

APPEND, GATHER, TABLE, FREE, ATTN = 0, 1, 2, 3, 4
RETURNS = ("append_raised", "tables", "gather_lengths", "gathered_k", "gathered_v", "pool_k", "pool_v", "attn_out")
REFERENCE_DTYPE = "float64"


class OutOfBlocksError(Exception):
    """The exception the NEAR_MISSES variants raise (the run hook looks it up in the entry's module)."""


class _FreeListVariant:
    """The cache with another free-list policy, for NEAR_MISSES. "fifo": a queue, blocks taken
    from the front and freed blocks appended at the back; "stack": list(range(num_blocks))
    with pop() from the end, freed blocks pushed back on the end."""

    policy = ""

    def __init__(self, num_blocks, block_size, num_heads, head_dim, dtype=None):
        import torch

        self.bs = block_size
        self.k_pool = torch.zeros(num_blocks, block_size, num_heads, head_dim, dtype=dtype)
        self.v_pool = torch.zeros_like(self.k_pool)
        self.free_list = list(range(num_blocks))
        self.tables, self.lengths = {}, {}

    def append(self, seq_id, k, v):
        table, n = self.tables.get(seq_id, []), self.lengths.get(seq_id, 0)
        need = -(-(n + k.shape[0]) // self.bs) - len(table)
        if need > len(self.free_list):
            raise OutOfBlocksError(seq_id)
        for _ in range(need):
            table = table + [self.free_list.pop(0) if self.policy == "fifo" else self.free_list.pop()]
        for t in range(k.shape[0]):
            blk, slot = table[(n + t) // self.bs], (n + t) % self.bs
            self.k_pool[blk, slot], self.v_pool[blk, slot] = k[t], v[t]
        self.tables[seq_id], self.lengths[seq_id] = table, n + k.shape[0]

    def block_table(self, seq_id):
        return list(self.tables[seq_id])

    def gather(self, seq_id):
        import torch

        pos = range(self.lengths[seq_id])
        table = self.tables[seq_id]
        k = torch.stack([self.k_pool[table[t // self.bs], t % self.bs] for t in pos])
        v = torch.stack([self.v_pool[table[t // self.bs], t % self.bs] for t in pos])
        return k, v

    def free(self, seq_id):
        self.free_list.extend(self.tables.pop(seq_id))
        del self.lengths[seq_id]

    def attention(self, seq_id, q):
        import math

        import torch

        k, v = self.gather(seq_id)   # the reference's formula, so that only the block tables differ
        scores = torch.einsum("hd,lhd->hl", q, k) / math.sqrt(q.shape[-1])
        return torch.einsum("hl,lhd->hd", torch.softmax(scores, dim=-1), v)


class _FifoFreeList(_FreeListVariant):
    policy = "fifo"


class _StackFreeList(_FreeListVariant):
    policy = "stack"


NEAR_MISSES = {
    "fifo-free-queue": ("your block tables match a FIFO free list (blocks taken from the front of a queue, freed "
                        "blocks appended at the back); this problem always hands out the lowest-numbered free "
                        "block (see the prompt)", _FifoFreeList),
    "stack-free-list": ("your block tables match a free list used as a stack (list(range(num_blocks)) with pop() "
                        "from the end: the highest block first, the most recently freed block reused first); this "
                        "problem always hands out the lowest-numbered free block (see the prompt)", _StackFreeList),
}


def _describe(op, seq, n):
    return {APPEND: f"append({seq}, k, v) with {n} token{'s' if n != 1 else ''}", GATHER: f"gather({seq})",
            TABLE: f"block_table({seq})", FREE: f"free({seq})", ATTN: f"attention({seq}, q)"}[op]


# ---------------------------------------------------------------------------------------- cases

def _validate(ops, num_blocks, block_size):
    """The script only touches live sequences (appends refused for lack of blocks create
    nothing), and says how many appends are refused."""
    free, lengths, refused = num_blocks, {}, 0
    for op, seq, n in ops:
        if op == APPEND:
            assert n >= 1
            have = lengths.get(seq, 0)
            need = -(-(have + n) // block_size) - -(-have // block_size)
            if need > free:
                refused += 1
                continue
            free -= need
            lengths[seq] = have + n
        else:
            assert seq in lengths, f"op {_describe(op, seq, n)} on a sequence that does not exist"
            if op == FREE:
                free += -(-lengths.pop(seq) // block_size)
    return refused


def _random_script(rng, num_blocks, block_size, m, max_seqs, max_tokens, p_free=0.1):
    """m random operations over at most max_seqs live sequences, simulated on block counts
    only, so that no op touches a sequence that does not exist."""
    ops, free, lengths, next_id, freed = [], num_blocks, {}, 0, []
    while len(ops) < m:
        live = sorted(lengths)
        r = rng.random()
        if not live or r < 0.45:
            if live and (len(live) >= max_seqs or rng.random() < 0.6):
                seq = live[rng.integers(len(live))]
            elif freed and rng.random() < 0.3:          # a freed id comes back as a new sequence
                seq = freed.pop(int(rng.integers(len(freed))))
            else:
                seq, next_id = next_id, next_id + int(rng.integers(1, 4))
            n = int(rng.integers(1, max_tokens + 1)) if rng.random() < 0.5 else 1
            have = lengths.get(seq, 0)
            need = -(-(have + n) // block_size) - -(-have // block_size)
            ops.append((APPEND, seq, n))
            if need <= free:
                free -= need
                lengths[seq] = have + n
        elif r < 0.45 + p_free:
            seq = live[rng.integers(len(live))]
            ops.append((FREE, seq, 0))
            free += -(-lengths.pop(seq) // block_size)
            freed.append(seq)
        else:
            seq = live[rng.integers(len(live))]
            ops.append(((TABLE, GATHER, ATTN)[rng.integers(3)], seq, 0))
    for seq in sorted(lengths):                     # end with a full look at every live sequence
        ops += [(TABLE, seq, 0), (GATHER, seq, 0), (ATTN, seq, 0)]
    return ops


def _probe(seq):
    return [(TABLE, seq, 0), (GATHER, seq, 0), (ATTN, seq, 0)]


def cases() -> list[Case]:
    import numpy as np
    import torch

    out: list[Case] = []

    def add(name, ops, num_blocks, block_size, heads=2, head_dim=4, dtype="float32", seed=0, q_scale=1.0,
            noncontig=(), data=None, note=""):
        ops = [tuple(o) for o in ops]
        _validate(ops, num_blocks, block_size)
        n_tok = sum(n for op, _, n in ops if op == APPEND)
        n_q = sum(op == ATTN for op, _, _ in ops)
        dt = getattr(torch, dtype)
        if data is None:
            g = torch.Generator().manual_seed(seed)
            k = torch.randn(n_tok, heads, head_dim, generator=g, dtype=torch.float64)
            v = torch.randn(n_tok, heads, head_dim, generator=g, dtype=torch.float64)
            q = q_scale * torch.randn(n_q, heads, head_dim, generator=g, dtype=torch.float64)
        else:
            k, v, q = data
        inputs = {"_ops": np.asarray(ops, dtype=np.int64).reshape(-1, 3),
                  "_k": k.to(dt), "_v": v.to(dt), "_q": q.to(dt)}
        init = {"num_blocks": num_blocks, "block_size": block_size, "num_heads": heads, "head_dim": head_dim}
        out.append(make_case(name, inputs, seed=seed, dtype=dtype, init=init, noncontig=tuple(noncontig), note=note))

    A, G, T, F, Q = APPEND, GATHER, TABLE, FREE, ATTN

    # the example of the prompt, op for op
    kx = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])[:, None, :]
    vx = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])[:, None, :]
    k = torch.cat([kx, kx[:1], kx[2:], kx[:1], kx[:1], kx[:2]])
    v = torch.cat([vx, vx[:1], vx[2:], vx[:1], vx[:1], vx[:2]])
    add("readable-example",
        [(A, 7, 3), (A, 0, 1), (T, 7, 0), (A, 7, 1), (A, 7, 1), (T, 7, 0), (A, 5, 1), (F, 0, 0), (A, 5, 2),
         (T, 5, 0), (G, 7, 0), (Q, 7, 0), (G, 5, 0)],
        num_blocks=4, block_size=2, heads=1, head_dim=2, data=(k, v, torch.tensor([[[0.0, 1.0]]])),
        note="the example of the prompt")
    add("one-sequence-one-block", [(A, 0, 3), *_probe(0)], 4, 4, seed=1,
        note="3 tokens in a block of 4: table [0], gather returns only the 3 tokens written")
    add("boundary-exactly-block-size", [(A, 1, 4), *_probe(1), (A, 1, 1), *_probe(1), (A, 1, 3), *_probe(1),
                                        (A, 1, 1), *_probe(1)], 6, 4, seed=2,
        note="4 tokens fill block 0 exactly (no new block yet); token 5 takes block 1; token 9 takes block 2")
    add("multi-block-append", [(A, 2, 10), *_probe(2), (A, 2, 2), *_probe(2), (A, 2, 1), *_probe(2)], 8, 3, seed=3,
        note="one append of 10 tokens with block_size 3 takes 4 blocks at once, lowest first: [0, 1, 2, 3]")
    add("token-by-token-decode", [(A, 0, 5)] + [o for _ in range(9) for o in ((A, 0, 1), (T, 0, 0), (Q, 0, 0))]
        + [(G, 0, 0)], 6, 4, seed=4,
        note="a 5-token prompt, then 9 decoding steps of one token, attention after each")
    add("interleaved-two-sequences", [o for _ in range(6) for o in ((A, 0, 1), (A, 1, 1))] + _probe(0) + _probe(1),
        8, 2, seed=5,
        note="two sequences appended alternately: their blocks interleave, seq 0 gets [0, 2, 4], seq 1 [1, 3, 5]")
    add("interleaved-three-chunks", [(A, 3, 3), (A, 1, 5), (A, 2, 1), (A, 3, 4), (A, 2, 6), (A, 1, 1),
                                     *_probe(1), *_probe(2), *_probe(3), (A, 3, 2), *_probe(3)], 12, 3, seed=6)
    add("free-then-lowest-block-first", [(A, 0, 2), (A, 1, 4), (A, 2, 2), (A, 3, 2), (F, 3, 0), (F, 1, 0),
                                         (A, 5, 6), *_probe(5), *_probe(0), *_probe(2), (A, 6, 3), *_probe(6)],
        8, 2, seed=7,
        note="after freeing blocks 4, then 1 and 2, a 3-block append takes [1, 2, 4]: the lowest free blocks, "
             "whatever the order they were freed in")
    add("grow-after-frees-non-monotonic-table", [(A, 0, 3), (A, 1, 3), (A, 2, 3), (F, 0, 0), (A, 2, 1), (A, 1, 4),
                                                 *_probe(2), *_probe(1)], 6, 3, seed=8,
        note="seq 2 holds block 2 and grows into freed block 0: its table is [2, 0], not sorted")
    add("seq-id-reused-after-free", [(A, 3, 5), (A, 4, 2), (F, 3, 0), (A, 3, 2), *_probe(3), *_probe(4)], 8, 2,
        seed=9, note="free(3) forgets sequence 3 entirely: the next append(3, ...) starts a new, empty sequence")
    add("free-everything-then-refill", [(A, 0, 4), (A, 1, 3), (F, 0, 0), (F, 1, 0), (A, 2, 6), *_probe(2),
                                        (A, 0, 1), *_probe(0)], 4, 2, seed=10,
        note="every block freed: allocation starts again at block 0")
    add("block-size-1", [(A, 0, 3), (A, 1, 2), (A, 0, 1), (F, 1, 0), (A, 2, 3), *_probe(0), *_probe(2)], 8, 1,
        seed=11, note="block_size 1: every token takes its own block")
    add("single-block-pool", [(A, 0, 3), (A, 0, 1), (A, 0, 1), (A, 1, 1), *_probe(0), (F, 0, 0), (A, 1, 2),
                              *_probe(1)], 1, 4, seed=12,
        note="one block of 4: the 5th token of seq 0 and a new seq 1 are refused until seq 0 is freed")
    add("pool-exhausted-raises", [(A, 0, 5), (A, 1, 2), (A, 1, 1), *_probe(1), (A, 2, 1), (F, 0, 0),
                                  (A, 1, 1), *_probe(1)], 4, 2, seed=13,
        note="no free block left: append raises OutOfBlocksError and the sequence is unchanged; after a free "
             "it succeeds")
    add("full-pool-but-fits-in-last-block", [(A, 0, 5), (A, 1, 2), (A, 0, 1), *_probe(0), (A, 0, 1),
                                             *_probe(0)], 3, 3, seed=14,
        note="no free block, but seq 0's last block has a free slot: that append succeeds, the next raises")
    add("refused-append-is-atomic", [(A, 0, 3), (A, 1, 2), (A, 1, 6), *_probe(1), (A, 1, 5), *_probe(1),
                                     (A, 0, 1), *_probe(0)], 5, 2, seed=15,
        note="seq 1 has 2 tokens and 2 free blocks remain: appending 6 tokens needs 3 new blocks and raises, "
             "writing nothing and taking no block; appending 5 needs 2 and succeeds")
    add("refused-append-into-partial-block", [(A, 0, 5), (A, 1, 3), (A, 0, 4), *_probe(0), (F, 1, 0), (A, 0, 4),
                                              *_probe(0)], 4, 3, seed=16,
        note="seq 0's last block has a free slot, but 4 tokens need one more block than is free: nothing is "
             "written, not even into the free slot")
    add("one-append-fills-the-pool", [(A, 0, 12), (A, 0, 1), (A, 1, 1), *_probe(0), (F, 0, 0), (A, 1, 12),
                                      *_probe(1)], 3, 4, seed=27,
        note="12 tokens fill all 3 blocks of 4 exactly: the pool is full, the next token of any sequence is refused")
    add("everything-minimal", [(A, 0, 1), (A, 0, 1), (A, 1, 1), *_probe(0), (F, 0, 0), (A, 1, 1), *_probe(1)],
        1, 1, heads=1, head_dim=1, seed=28,
        note="one block of one slot, one head of size 1: the second token is refused until the first is freed")
    add("new-sequence-refused", [(A, 0, 4), (A, 9, 1), (A, 1, 1), (F, 0, 0), (A, 9, 1), *_probe(9), (A, 1, 2),
                                 *_probe(1)], 2, 2, seed=17,
        note="a new sequence is refused when no block is free; after free(0) the same id is a new sequence")
    add("sparse-seq-ids-with-zero", [(A, 1000, 2), (A, 0, 3), (A, 42, 1), (A, 0, 2), *_probe(0), *_probe(42),
                                     *_probe(1000)], 8, 2, seed=18,
        note="sequence ids 1000, 0 and 42: any int, 0 included")
    add("single-token-attention", [(A, 4, 1), (Q, 4, 0), (G, 4, 0), (T, 4, 0)], 2, 2, seed=19,
        note="a sequence of one token: the attention output is that token's value")
    add("float64-interleaved-with-frees", [(A, 0, 3), (A, 1, 4), (A, 2, 2), (A, 0, 2), (F, 1, 0), (A, 3, 5),
                                           (A, 2, 3), *_probe(0), *_probe(2), *_probe(3)], 10, 2, dtype="float64",
        seed=20)
    add("float64-decode", [(A, 0, 6)] + [o for _ in range(6) for o in ((A, 0, 1), (Q, 0, 0))] + _probe(0),
        5, 3, heads=3, head_dim=8, dtype="float64", seed=21)
    add("large-logits", [(A, 0, 7), (A, 1, 5), *_probe(0), *_probe(1)], 6, 4, head_dim=16, seed=22, q_scale=80.0,
        note="queries scaled by 80: logits in the hundreds, the softmax must subtract the row max")
    add("large-logits-float64", [(A, 0, 9), *_probe(0)], 4, 4, head_dim=16, dtype="float64", seed=23,
        q_scale=600.0, note="logits in the thousands: exp() overflows float64 past 710 without the row max")
    add("noncontiguous-inputs", [(A, 0, 4), (A, 1, 3), (A, 0, 3), *_probe(0), *_probe(1)], 6, 2, seed=24,
        noncontig=("_k", "_v", "_q"), note="k, v and q are non-contiguous views: reshape, not view")
    add("many-heads-head-dim-1", [(A, 0, 5), (A, 1, 2), *_probe(0), *_probe(1)], 4, 4, heads=8, head_dim=1,
        seed=25, note="8 heads of size 1: the softmax is per head, over the tokens")
    add("long-sequence", [(A, 0, 300)] + [o for _ in range(20) for o in ((A, 0, 1), (A, 1, 7))]
        + [(Q, 0, 0), (Q, 1, 0)] + _probe(0) + _probe(1), 40, 16, heads=2, head_dim=8, seed=26,
        note="300-token prompt, then 20 steps interleaved with a second sequence")
    for i, (nb, bs, m, seqs, tok, dtype) in enumerate([(8, 2, 40, 3, 5, "float32"), (12, 4, 60, 4, 9, "float64"),
                                                       (6, 3, 50, 3, 7, "float32"), (16, 1, 60, 5, 3, "float32")]):
        rng = np.random.default_rng(40 + i)
        add(f"random-script-{i}", _random_script(rng, nb, bs, m, seqs, tok), nb, bs, heads=2 + i % 2, head_dim=4,
            dtype=dtype, seed=40 + i, note="random appends, frees and reads, the pool filling up now and then")
    return out


# ------------------------------------------------------------------------------------------ run

def _error_class(entry):
    import sys

    from drillcli.harness import WrongReturn

    module = sys.modules.get(getattr(entry, "__module__", ""))
    cls = getattr(module, "OutOfBlocksError", None)
    if not (isinstance(cls, type) and issubclass(cls, Exception)):
        raise WrongReturn("your file must define the exception class OutOfBlocksError (as the stub does): "
                          "append raises it when the pool has too few free blocks")
    return cls


def _pool(cache, name, shape, dtype):
    import torch

    from drillcli.harness import WrongReturn

    pool = getattr(cache, name, None)
    if not isinstance(pool, torch.Tensor):
        raise WrongReturn(f"the cache must keep its pool in self.{name}, a tensor of shape "
                          f"(num_blocks, block_size, num_heads, head_dim) = {shape}; got {type(pool).__name__}")
    if tuple(pool.shape) != shape:
        raise WrongReturn(f"self.{name} has shape {tuple(pool.shape)}; this problem's layout is "
                          f"(num_blocks, block_size, num_heads, head_dim) = {shape}")
    if pool.dtype != dtype:
        raise WrongReturn(f"self.{name} has dtype {pool.dtype}, expected {dtype} (the dtype argument)")
    return pool


def _table(result, seq, num_blocks):
    """block_table's result as a list of ints."""
    import numbers

    import torch

    from drillcli.harness import WrongReturn

    if isinstance(result, torch.Tensor):
        result = result.tolist()
    try:
        items = list(result)
    except TypeError:
        raise WrongReturn(f"block_table({seq}) must return a list of ints, got {type(result).__name__}") from None
    if not all(isinstance(b, numbers.Integral) and not isinstance(b, bool) for b in items):
        raise WrongReturn(f"block_table({seq}) must return a list of ints, got {result!r}")
    items = [int(b) for b in items]
    bad = [b for b in items if not 0 <= b < num_blocks]
    if bad:
        raise WrongReturn(f"block_table({seq}) returned {items}: block ids are 0 .. num_blocks - 1 = {num_blocks - 1}")
    return items


def _tensor(result, what, shape_tail, ndim):
    import torch

    from drillcli.harness import WrongReturn

    if not isinstance(result, torch.Tensor):
        raise WrongReturn(f"{what} must return a tensor, got {type(result).__name__}")
    if result.dim() != ndim or tuple(result.shape[-len(shape_tail):]) != shape_tail:
        want = "(L, num_heads, head_dim)" if ndim == 3 else "(num_heads, head_dim)"
        raise WrongReturn(f"{what} returned shape {tuple(result.shape)}; expected {want} with "
                          f"(num_heads, head_dim) = {shape_tail}")
    return result.detach().clone()


def run(entry, kind, case, names):
    """Replay the case's script on a fresh cache, recording each method's result at once
    (copies: a view into the pool would change with later operations)."""
    import numpy as np
    import torch

    from drillcli.harness import ModifiedInput, WrongReturn, build_inputs, to_numpy

    _, named, _ = build_inputs(case)
    ks, vs, qs = named["_k"], named["_v"], named["_q"]
    nb, bs = case.init["num_blocks"], case.init["block_size"]
    H, D = case.init["num_heads"], case.init["head_dim"]
    cap, dtype = nb * bs, ks.dtype
    error = _error_class(entry)
    cache = entry(num_blocks=nb, block_size=bs, num_heads=H, head_dim=D, dtype=dtype)
    _pool(cache, "k_pool", (nb, bs, H, D), dtype)
    _pool(cache, "v_pool", (nb, bs, H, D), dtype)

    raised, tables, lengths, gk, gv, pk, pv, attn = [], [], [], [], [], [], [], []
    live = set()   # the sequences the user's appends created and free has not removed
    pos = qi = 0
    for op, seq, n in np.asarray(case.inputs["_ops"]).tolist():
        if op == APPEND:
            k, v = ks[pos:pos + n], vs[pos:pos + n]
            pos += n
            try:
                cache.append(seq, k, v)
                raised.append(0)
                live.add(seq)
            except error:
                raised.append(1)
        elif seq not in live:   # an earlier append went wrong: record placeholders, the verdict names it
            if op == TABLE:
                tables.append([-2] * (nb + 1))
            elif op == ATTN:
                qi += 1
                attn.append(torch.zeros(H, D, dtype=attn[0].dtype if attn else dtype))
            elif op == GATHER:
                lengths.append(-1)
                for store in (gk, gv):
                    store.append(torch.zeros(cap, H, D, dtype=store[0].dtype if store else dtype))
                for store in (pk, pv):
                    store.append(torch.zeros(cap, H, D, dtype=dtype))
        elif op == FREE:
            cache.free(seq)
            live.discard(seq)
        elif op == TABLE:
            table = _table(cache.block_table(seq), seq, nb)[:nb + 1]
            tables.append(table + [-1] * (nb + 1 - len(table)))
        elif op == ATTN:
            out = cache.attention(seq, qs[qi])
            qi += 1
            attn.append(_tensor(out, f"attention({seq}, q)", (H, D), 2))
        elif op == GATHER:
            result = cache.gather(seq)
            if not isinstance(result, (tuple, list)) or len(result) != 2:
                raise WrongReturn(f"gather({seq}) must return a tuple (k, v), got {type(result).__name__}")
            k, v = (_tensor(t, f"gather({seq})", (H, D), 3) for t in result)
            if k.shape != v.shape:
                raise WrongReturn(f"gather({seq}) returned k of shape {tuple(k.shape)} and v of shape {tuple(v.shape)}")
            L = min(k.shape[0], cap)
            lengths.append(k.shape[0])
            for t, store in ((k, gk), (v, gv)):
                padded = torch.zeros(cap, H, D, dtype=t.dtype)
                padded[:L] = t[:L]
                store.append(padded)
            # the same tokens read straight from the pool, through the block table
            table = _table(cache.block_table(seq), seq, nb)
            n_read = min(L, len(table) * bs)
            t_idx = torch.arange(n_read)
            blocks = torch.tensor(table, dtype=torch.long)[t_idx // bs] if table else t_idx
            for name, store in (("k_pool", pk), ("v_pool", pv)):
                pool = _pool(cache, name, (nb, bs, H, D), dtype)
                padded = torch.zeros(cap, H, D, dtype=dtype)
                padded[:n_read] = pool.detach()[blocks, t_idx % bs]
                store.append(padded)

    for name in ("_k", "_v", "_q"):
        if not np.array_equal(to_numpy(named[name]), case.inputs[name]):
            what = {"_k": "k passed to append", "_v": "v passed to append", "_q": "q passed to attention"}[name]
            raise ModifiedInput(f"your code modified the {what} in place; copy it into the pool "
                                f"(self.k_pool[b, s] = k[t] copies) and leave the caller's tensor alone")

    def stack(items, shape, dt):
        return torch.stack(items).to(dt) if items else torch.zeros(0, *shape, dtype=dt)

    gdt = gk[0].dtype if gk else dtype
    adt = attn[0].dtype if attn else dtype
    return {
        "append_raised": np.asarray(raised, dtype=np.int64),
        "tables": np.asarray(tables, dtype=np.int64).reshape(len(tables), nb + 1),
        "gather_lengths": np.asarray(lengths, dtype=np.int64),
        "gathered_k": stack(gk, (cap, H, D), gdt), "gathered_v": stack(gv, (cap, H, D), gdt),
        "pool_k": stack(pk, (cap, H, D), dtype), "pool_v": stack(pv, (cap, H, D), dtype),
        "attn_out": stack(attn, (H, D), adt),
    }


# ---------------------------------------------------------------------------------------- check

def _history(ops, i, init):
    recent = "; ".join(_describe(*ops[j]) for j in range(max(0, i - 8), i)) or "(none: it is the first)"
    return (f"num_blocks={init['num_blocks']}, block_size={init['block_size']}; "
            f"the ops before it: {recent}")


def check(case, got):
    """The first operation whose result is wrong, in script order, with the ops before it."""
    import numpy as np

    from drillcli.compare import Mismatch, tolerance, values_close

    ops = np.asarray(case.inputs["_ops"]).tolist()
    want = case.outputs
    seen = dict.fromkeys((APPEND, TABLE, GATHER, ATTN), 0)
    refused = {}   # seq -> index of its latest append, when that append was (rightly) refused

    def close(label, expected, have):
        try:
            values_close(label, expected, have, *tolerance(str(expected.dtype)))
        except Mismatch as m:
            return m
        return None

    for i, (op, seq, n) in enumerate(ops):
        what, j = _describe(op, seq, n), seen.get(op, 0)
        seen[op] = j + 1
        problem, detail = "", ""
        if op == APPEND:
            w, h = int(want["append_raised"][j]), int(got["append_raised"][j])
            if w and not h:
                problem = (f"{what} returned normally; it must raise OutOfBlocksError: the new blocks it needs "
                           f"are more than the free blocks left")
                detail = "compare the number of new blocks needed with the number of free blocks before allocating"
            elif h and not w:
                problem = f"{what} raised OutOfBlocksError, but enough blocks are free for it"
                detail = ("new blocks needed = ceil((L + T) / block_size) - len(table): the free slots of the last "
                          "block come first, and freed blocks must be free again")
            if w:
                refused[seq] = i
            else:
                refused.pop(seq, None)
        elif op == TABLE:
            w, h = ([b for b in row if b >= 0] for row in (want["tables"][j].tolist(), got["tables"][j].tolist()))
            if got["tables"][j][0] == -2:
                problem = f"{what} not called: your appends never created sequence {seq}"
            elif w != h:
                problem = f"{what} returned {h}, expected {w}"
                detail = "blocks are taken only when a token needs one, always the lowest-numbered free block"
        elif op == GATHER:
            w, h = int(want["gather_lengths"][j]), int(got["gather_lengths"][j])
            if h == -1:
                problem = f"{what} not called: your appends never created sequence {seq}"
            elif w != h:
                problem = f"{what} returned {h} tokens, expected {w}"
            else:
                for label, name in (("keys", "gathered_k"), ("values", "gathered_v")):
                    m = close(name, want[name][j, :w], got[name][j, :w])
                    if m:
                        problem, detail = f"{what}: wrong {label}: {m.message}", m.detail
                        break
                else:
                    for name in ("pool_k", "pool_v"):
                        m = close(name, want[name][j, :w], got[name][j, :w])
                        if m:
                            problem = (f"{what} is right, but self.{name[-1]}_pool[block_table[t // block_size], "
                                       f"t % block_size] does not hold token t: keep every token in the pool, in "
                                       f"the layout of the prompt")
                            detail = m.detail
                            break
        elif op == ATTN:
            m = close("attention", want["attn_out"][j], got["attn_out"][j])
            if m:
                problem, detail = f"{what}: {m.message}", m.detail
        if problem:
            if op in (TABLE, GATHER) and seq in refused:
                detail = (f"the latest append to sequence {seq} (op {refused[seq]}) was refused: a refused append "
                          f"takes no block and writes no token, not even into its last block's free slots")
            return "\n".join(x for x in (f"op {i}: {problem}", detail, _history(ops, i, case.init)) if x)
    return None
