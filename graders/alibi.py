"""Cases for ALiBi: slopes for power-of-two and other head counts, and the bias for square
(prefill) and rectangular (decoding with a cache) attention."""

from functools import partial

from drillcli.fixtures import Case, make_case

RETURNS = ("slopes", "bias")


def _variant(num_heads, q_len, k_len=None, *, pow2_rule=False, sign=1):
    """ALiBi with one convention changed: the power-of-two slope rule used for every head count,
    or the bias sign flipped (slopes * (i - j), positive for past keys)."""
    import math

    import torch

    def pow2(n):
        return [2.0 ** (-8.0 * (h + 1) / n) for h in range(n)]

    k_len = q_len if k_len is None else k_len
    p = 2 ** math.floor(math.log2(num_heads))
    slopes = torch.tensor(pow2(num_heads) if pow2_rule else pow2(p) + pow2(2 * p)[0::2][: num_heads - p])
    rel = torch.arange(k_len)[None, :] - torch.arange(k_len - q_len, k_len)[:, None]
    return slopes, sign * slopes[:, None, None] * rel


NEAR_MISSES = {
    "power-of-two-rule-for-every-head-count": (
        "your output matches the power-of-two slope rule 2^(-8(h+1)/n) applied to a head count that is not a power "
        "of two; for those this problem takes the p slopes of the largest power of two p, then every other slope of "
        "the 2p sequence (see the prompt)", partial(_variant, pow2_rule=True)),
    "sign-flipped": ("your output matches the bias with its sign flipped, m * (i - j), positive for past keys; this "
                     "problem's bias is m * (j - i), negative for past keys (see the prompt)",
                     partial(_variant, sign=-1)),
}


def cases() -> list[Case]:
    out: list[Case] = []

    def add(name, num_heads, q_len, k_len=None, note=""):
        inputs = {"num_heads": num_heads, "q_len": q_len}
        if k_len is not None:
            inputs["k_len"] = k_len
        out.append(make_case(name, inputs, dtype="float32", note=note))

    add("readable-4-heads", 4, 3, note="the example of the prompt: slopes 1/4, 1/16, 1/64, 1/256")
    add("readable-3-heads", 3, 2, note="3 heads (not a power of two): slopes 1/16, 1/256 from the 2-head "
                                       "sequence, then 1/4, the first of every other slope of the 4-head sequence")
    add("one-head", 1, 4, note="a single head: slope 2^-8")
    add("two-heads", 2, 4, note="slopes 2^-4, 2^-8")
    add("eight-heads", 8, 5, note="the paper's 8-head sequence 1/2, 1/4, ..., 1/256")
    add("sixteen-heads", 16, 3, note="slopes 2^-0.5, 2^-1, ..., 2^-8")
    add("thirty-two-heads", 32, 2)
    add("sixty-four-heads", 64, 2, note="slopes 2^(-8h/64): the first is 2^-0.125")
    add("five-heads", 5, 3, note="4 power-of-two slopes + 1 extra: the 8-head sequence at indices 0, 2, ... starts with 1/2")
    add("six-heads", 6, 3, note="4 + 2 extra heads: 1/2 and 1/8 from the 8-head sequence")
    add("seven-heads", 7, 2, note="4 + 3 extra heads: 1/2, 1/8, 1/32")
    add("twelve-heads", 12, 2, note="8 + 4 extra heads from the 16-head sequence: 2^-0.5, 2^-1.5, 2^-2.5, 2^-3.5")
    add("twenty-heads", 20, 2, note="16 + 4 extra heads from the 32-head sequence")
    add("twenty-four-heads", 24, 2)
    add("forty-heads", 40, 2, note="32 + 8 extra heads from the 64-head sequence")
    add("bloom-112-heads", 112, 1, note="BLOOM-176B's 112 heads: 64 + 48 extra from the 128-head sequence")
    add("length-1", 8, 1, note="one query, one key: the bias is all zeros")
    add("explicit-k-len-equal", 4, 5, 5, note="k_len given and equal to q_len: same as the default")
    add("decode-one-query", 8, 1, 10, note="one new query at position 9 attending 10 cached keys: bias = m * (j - 9)")
    add("decode-chunk", 6, 3, 7, note="3 queries at positions 4, 5, 6 over 7 keys: query i is at i + k_len - q_len")
    add("long-sequence", 4, 64, note="64 positions: the farthest key gets -63 * slope")
    add("long-decode-12-heads", 12, 4, 40)
    add("upper-triangle", 2, 6, note="entries above the diagonal (future keys) are positive: slope * (j - i) "
                                     "everywhere, no clamping, no absolute value")
    return out
