"""Cases for RoPE frequency scaling: plain, linear (position interpolation), dynamic NTK and
YaRN inverse frequencies, and YaRN's attention scaling, with transformers' parameters and
defaults. Every case passes all ten arguments positionally; `dtype` is stored as its name
("float32" / "float64") and turned into the torch dtype by `run`."""

from functools import partial

from drillcli.fixtures import Case, make_case

RETURNS = ("inv_freq", "attention_scaling")

ARGS = ("dim", "base", "method", "factor", "max_position_embeddings", "seq_len", "beta_fast", "beta_slow",
        "truncate", "dtype")
DEFAULTS = {"base": 10000.0, "method": "default", "factor": 1.0, "max_position_embeddings": 2048,
            "seq_len": None, "beta_fast": 32.0, "beta_slow": 1.0, "truncate": True, "dtype": "float32"}


def run(entry, kind, case, names):
    """Call the entry with every argument positionally, the dtype as a torch dtype."""
    import torch

    from drillcli.harness import build_inputs, unpack

    args, _, _ = build_inputs(case)
    args[-1] = getattr(torch, args[-1])
    return unpack(entry(*args), names)


def yarn_range(dim, base, max_position_embeddings, beta_fast, beta_slow, truncate):
    """(low, high): YaRN's correction range, as the reference computes it."""
    import math

    def correction_dim(rotations):
        return dim * math.log(max_position_embeddings / (rotations * 2 * math.pi)) / (2 * math.log(base))

    low, high = correction_dim(beta_fast), correction_dim(beta_slow)
    if truncate:
        low, high = math.floor(low), math.ceil(high)
    return max(low, 0), min(high, dim - 1)


def _variant(dim, base=10000.0, method="default", factor=1.0, max_position_embeddings=2048, seq_len=None,
             beta_fast=32.0, beta_slow=1.0, truncate=True, dtype=None, *, convention):
    """The reference with one convention changed: "static-ntk" (base * factor^(d/(d-2)) whatever
    seq_len), "untruncated" (YaRN's range never floored/ceiled) or "squared" (YaRN's
    attention scaling squared: the factor on the logits instead of on cos and sin)."""
    import math

    import torch

    from drillcli.solutions.rope_scaling import rope_inv_freq   # build time only (near misses are stored)

    if convention == "static-ntk" and method == "dynamic":
        base = base * factor ** (dim / (dim - 2))
        inv = base ** (-torch.arange(0, dim, 2, dtype=torch.float64) / dim)
        return inv.to(dtype), 1.0
    if convention == "untruncated":
        truncate = False
    inv, scaling = rope_inv_freq(dim, base, method, factor, max_position_embeddings, seq_len, beta_fast, beta_slow,
                                 truncate, dtype)
    if convention == "squared":
        scaling = scaling ** 2
    return inv, scaling


NEAR_MISSES = {
    "static-ntk": ("your output matches static NTK-aware scaling, base * factor^(d/(d-2)) whatever the sequence "
                   "length; this problem asks for transformers' dynamic form, base * (factor * seq_len / "
                   "max_position_embeddings - (factor - 1))^(d/(d-2)), and plain RoPE while seq_len <= "
                   "max_position_embeddings (see the prompt)", partial(_variant, convention="static-ntk")),
    "yarn-untruncated": ("your output matches YaRN with the correction range (low, high) left fractional; with "
                         "truncate=True (the default, as in transformers) low is rounded down and high up "
                         "before clamping (see the prompt)", partial(_variant, convention="untruncated")),
    "yarn-scaling-squared": ("your attention_scaling matches (0.1 ln(factor) + 1)^2, the factor the attention "
                             "logits end up multiplied by; this problem returns 0.1 ln(factor) + 1, the factor "
                             "applied to cos and sin (see the prompt)", partial(_variant, convention="squared")),
}


def cases() -> list[Case]:
    out: list[Case] = []

    def add(name, dtype="float32", note="", **params):
        values = {**DEFAULTS, **params, "dtype": dtype}
        if values["method"] == "yarn":   # the prompt promises 0 <= low < high in every case
            low, high = yarn_range(values["dim"], values["base"], values["max_position_embeddings"],
                                   values["beta_fast"], values["beta_slow"], values["truncate"])
            assert 0 <= low < high, (name, low, high)
        shown = ", ".join(f"{k}={values[k]!r}" for k in ARGS[:-1] if k == "dim" or values[k] != DEFAULTS[k])
        out.append(make_case(name, {k: values[k] for k in ARGS}, dtype=dtype,
                             note=f"{note} [{shown}]" if note else f"[{shown}]"))

    # readable: the examples of the prompt
    add("readable-default-d8", dim=8, note="the example of the prompt: plain RoPE, base^(-2i/d) = [1, 0.1, 0.01, 0.001]")
    add("readable-linear-d8", dim=8, method="linear", factor=4.0,
        note="the example of the prompt: linear divides every frequency by factor")
    add("readable-dynamic-d8", "float64", dim=8, method="dynamic", factor=2.0, max_position_embeddings=16, seq_len=32,
        note="the example of the prompt: base' = 10000 * (2 * 32 / 16 - 1)^(8/6)")
    add("readable-yarn-d16", "float64", dim=16, method="yarn", factor=4.0,
        note="the example of the prompt: low = 2, high = 6, ramp [0, 0, 0, .25, .5, .75, 1, 1]")
    # plain RoPE
    add("default-d2", dim=2, note="dim = 2: a single frequency, 1")
    add("default-d128-base-500000", dim=128, base=500000.0, note="LLaMA 3's base")
    add("default-ignores-factor", dim=32, factor=8.0, seq_len=100000,
        note="method 'default' ignores factor and seq_len: plain RoPE")
    add("default-float64-base-1e6", "float64", dim=64, base=1e6)
    # linear
    add("linear-factor-1", dim=64, method="linear", note="factor = 1: plain RoPE")
    add("linear-factor-2.5-float64", "float64", dim=32, method="linear", factor=2.5)
    add("linear-ignores-seq-len", dim=128, method="linear", factor=8.0, max_position_embeddings=4096, seq_len=100000,
        note="linear does not depend on seq_len")
    # dynamic NTK
    add("dynamic-seq-len-none", dim=64, method="dynamic", factor=4.0,
        note="seq_len = None means max_position_embeddings: plain RoPE")
    add("dynamic-seq-len-below", dim=64, method="dynamic", factor=4.0, seq_len=1000,
        note="seq_len < max_position_embeddings: plain RoPE (the base only grows)")
    add("dynamic-seq-len-1-float64", "float64", dim=128, base=500000.0, method="dynamic", factor=8.0,
        max_position_embeddings=4096, seq_len=1, note="seq_len = 1, far below the trained context: plain RoPE")
    add("dynamic-seq-len-equal", "float64", dim=32, method="dynamic", factor=4.0, seq_len=2048,
        note="seq_len == max_position_embeddings: the scale term is exactly 1, plain RoPE")
    add("dynamic-just-above", "float64", dim=64, method="dynamic", factor=4.0, seq_len=2049,
        note="seq_len = max_position_embeddings + 1: base' = base * (1 + factor / 2048)^(d/(d-2))")
    add("dynamic-4x", dim=128, method="dynamic", factor=4.0, seq_len=8192,
        note="seq_len = 4 * max_position_embeddings: base' = base * 13^(128/126)")
    add("dynamic-factor-1-above", dim=64, method="dynamic", max_position_embeddings=1024, seq_len=3072,
        note="factor = 1 does NOT switch dynamic off: beyond the context base' = base * (seq_len / L)^(d/(d-2))")
    add("dynamic-factor-1-above-float64", "float64", dim=32, method="dynamic", max_position_embeddings=4096,
        seq_len=5000, note="factor = 1, seq_len > max_position_embeddings: still rescaled")
    add("dynamic-d4", "float64", dim=4, method="dynamic", factor=2.0, seq_len=6144,
        note="dim = 4: the exponent d/(d-2) is 2")
    add("dynamic-edges-together", dim=4, method="dynamic", factor=1.0, seq_len=1,
        note="dim = 4, factor = 1, seq_len = 1 together: plain RoPE")
    add("dynamic-non-integer-factor", "float64", dim=64, base=1e6, method="dynamic", factor=2.5, seq_len=5000)
    # YaRN
    add("yarn-factor-1", dim=64, method="yarn", note="factor = 1: plain RoPE and attention_scaling 1")
    add("yarn-llama-8x", dim=128, method="yarn", factor=8.0, max_position_embeddings=8192,
        note="low = 25, high = 50: pairs 0..25 kept, 50..63 interpolated, a linear ramp between")
    add("yarn-llama-8x-float64", "float64", dim=128, base=500000.0, method="yarn", factor=8.0,
        max_position_embeddings=8192)
    add("yarn-factor-40", "float64", dim=64, method="yarn", factor=40.0, max_position_embeddings=4096,
        note="DeepSeek-V2's factor 40: attention_scaling = 0.1 ln 40 + 1")
    add("yarn-betas-16-2", dim=64, method="yarn", factor=4.0, beta_fast=16.0, beta_slow=2.0,
        note="beta_fast = 16, beta_slow = 2 move the ramp")
    add("yarn-betas-64-half-float64", "float64", dim=128, method="yarn", factor=16.0, max_position_embeddings=4096,
        beta_fast=64.0, beta_slow=0.5)
    add("yarn-untruncated", dim=128, method="yarn", factor=4.0, max_position_embeddings=4096, truncate=False,
        note="truncate = False: the ramp runs between the fractional low and high")
    add("yarn-untruncated-float64", "float64", dim=64, base=500000.0, method="yarn", factor=16.0, truncate=False)
    add("yarn-low-clamped", "float64", dim=16, method="yarn", factor=4.0, max_position_embeddings=16,
        note="a short trained context: low < 0 is clamped to 0")
    add("yarn-high-clamped", "float64", dim=32, base=16.0, method="yarn", factor=4.0,
        note="base 16: high = 34 is clamped to dim - 1 = 31, not to dim/2 - 1 = 15: ramp (i - 13) / 18 stays below 1")
    add("yarn-high-clamped-float32", dim=64, base=16.0, method="yarn", factor=8.0, truncate=False,
        note="high clamped to dim - 1 = 63 (not dim/2 - 1), with the fractional low of truncate = False")
    add("yarn-d2", dim=2, method="yarn", factor=4.0, note="dim = 2: a single frequency")
    add("yarn-edges-together", dim=2, method="yarn", factor=1.0, max_position_embeddings=16,
        note="dim = 2 and factor = 1 together: [1.0] and attention_scaling 1")
    add("yarn-non-integer-factor", dim=32, method="yarn", factor=2.5, max_position_embeddings=1024)
    add("yarn-ignores-seq-len", "float64", dim=64, method="yarn", factor=4.0, seq_len=100000,
        note="YaRN's frequencies do not depend on seq_len")
    return out
