"""Cases for the sinusoidal position encoding table. The inputs are two integers, so the
cases vary the sizes: tiny readable tables, odd multiples, wide and long tables."""

from drillcli.fixtures import Case, make_case

RETURNS = ("pe",)


def _concatenated(max_len, d_model):
    """All sines in the first half of the columns, all cosines in the second (tensor2tensor)."""
    import torch

    angles = torch.arange(max_len, dtype=torch.float64)[:, None] * \
        10000.0 ** (-torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)
    return torch.cat([angles.sin(), angles.cos()], dim=-1).to(torch.float32)


NEAR_MISSES = {
    "concatenated": ("your output matches sines in the first half of the columns and cosines in the second "
                     "(tensor2tensor's layout); this problem interleaves them: sin in even columns, cos in odd "
                     "ones (see the prompt)", _concatenated),
}


def cases() -> list[Case]:
    out: list[Case] = []

    def add(name, max_len, d_model, note=""):
        out.append(make_case(name, {"max_len": max_len, "d_model": d_model}, dtype="float32", note=note))

    add("readable-3x4", 3, 4, note="the example of the prompt: columns sin, cos at frequency 1, sin, cos at 1/100")
    add("readable-2x2", 2, 2, note="d_model = 2: a single pair, PE[1] = (sin 1, cos 1)")
    add("one-position", 1, 8, note="max_len = 1: only position 0, rows of (0, 1, 0, 1, ...)")
    add("empty", 0, 8, note="max_len = 0: an empty (0, 8) float32 tensor")
    add("empty-wide", 0, 128, note="max_len = 0 is legal: an empty (0, 128) table, not a (0,) tensor")
    add("d-model-2-long", 64, 2, note="one pair: PE[p] = (sin p, cos p)")
    add("d-model-6", 10, 6, note="d_model not a multiple of 4: three pairs, frequencies 1, 10000^(-1/3), 10000^(-2/3)")
    add("d-model-10", 12, 10, note="five pairs: check every sin column is even and every cos column odd")
    add("square-16", 16, 16)
    add("tall-50x8", 50, 8)
    add("wide-4x512", 4, 512, note="d_model = 512 as in the paper: the last pair has frequency 10000^(-510/512)")
    add("transformer-base-64x512", 64, 512, note="the paper's d_model, 64 positions")
    add("head-dim-128", 32, 128)
    add("d-model-14", 7, 14)
    add("d-model-30", 9, 30)
    add("max-len-100-d-20", 100, 20)
    add("max-len-1000-d-4", 1000, 4, note="positions up to 999: angles in the hundreds")
    add("max-len-2048-d-6", 2048, 6, note="positions up to 2047: float32 angles carry ~1e-4 rad of rounding, "
                                          "within the tolerance; wrong layouts are off by O(1)")
    add("max-len-4096-d-4", 4096, 4, note="positions up to 4095: sin/cos of angles in the thousands")
    add("max-len-512-d-64", 512, 64, note="angles up to 511 rad at frequencies that are not powers of two: "
                                          "float32 angle rounding reaches ~3e-5, within the tolerance")
    add("max-len-4096-d-64", 4096, 64, note="angles up to ~3000 rad at frequencies that are not powers of two: "
                                            "float32 angle rounding reaches ~2e-4, within the tolerance")
    add("max-len-300-d-32", 300, 32)
    add("d-model-254", 5, 254, note="d_model = 254: the last frequency is 10000^(-252/254), not 1/10000")
    return out
