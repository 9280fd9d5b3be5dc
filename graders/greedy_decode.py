"""Cases for greedy decoding. The grader owns a small deterministic "language model"
(a lookup table summed over the prefix with a decay, plus an EOS bias that grows with
the length) and hands the user's `greedy_decode` a `step` function built on it."""

from drillcli.fixtures import Case, make_case

RETURNS = ("tokens",)


def table_logits(table, tokens, decay, eos_id, eos_ramp):
    """The model, in float64: logits[b] = sum_t decay**(T-1-t) * table[tokens[b, t]] + eos_ramp * T * e_eos.

    table (V, V) float64, tokens (N, T) int64 -> (N, V) float64. Shared with beam-search."""
    import torch

    n, t = tokens.shape
    w = decay ** torch.arange(t - 1, -1, -1, dtype=torch.float64)        # (T,)
    logits = (table[tokens] * w[None, :, None]).sum(dim=1)                # (N, V)
    logits[:, eos_id] += eos_ramp * t
    return logits


class Model:
    """The step function handed to the user: checks how it is called, counts the calls."""

    def __init__(self, case, batch=None):
        import torch

        self.table = torch.from_numpy(case.inputs["_table"]).to(torch.float64)
        self.model = case.inputs["_model"]
        self.dtype = getattr(torch, case.dtype or "float32")
        self.batch, self.calls = batch, 0

    def __call__(self, tokens):
        import torch

        from drillcli.harness import WrongReturn

        if not isinstance(tokens, torch.Tensor) or tokens.dim() != 2 or tokens.dtype not in (torch.int64, torch.int32):
            got = f"{type(tokens).__name__} {getattr(tokens, 'dtype', '')} {tuple(getattr(tokens, 'shape', ()))}"
            raise WrongReturn(f"step expects a LongTensor of shape (B, T), got {got}")
        if self.batch is not None and tokens.shape[0] != self.batch:
            raise WrongReturn(f"step must be called on the whole batch: expected {self.batch} rows, got {tokens.shape[0]}")
        v = self.table.shape[0]
        if tokens.numel() and (int(tokens.min()) < 0 or int(tokens.max()) >= v):
            raise WrongReturn(f"step got token ids outside [0, {v}): min {int(tokens.min())}, max {int(tokens.max())}")
        self.calls += 1
        logits = table_logits(self.table, tokens.long(), self.model["decay"], self.model["eos"], self.model["eos_ramp"])
        return logits.to(self.dtype)


def run(entry, kind, case, names):
    import torch

    from drillcli.harness import WrongReturn, build_inputs, check_inputs_unchanged

    args, named, _ = build_inputs(case)
    step = Model(case, batch=args[0].shape[0])
    tokens = entry(step, *args)
    if not isinstance(tokens, torch.Tensor):
        raise WrongReturn(f"greedy_decode must return a torch.Tensor of token ids, got {type(tokens).__name__}")
    check_inputs_unchanged(case, named)
    return {"tokens": tokens, "steps": step.calls}


def wrong_step_count(case, got, rule):
    """None, or a message saying how often `step` was called against how often it should be."""
    want, have = int(case.outputs["steps"]), int(got["steps"])
    if want == have:
        return None
    return f"step called {have} times, expected {want}\n{rule}"


def check(case, got):
    """The tokens first, then the number of calls to step."""
    from drillcli.compare import Mismatch, values_close

    try:
        values_close("tokens", case.outputs["tokens"], got["tokens"], 0.0, 0.0)
    except Mismatch as m:
        return f"{m.message}\n{m.detail}"
    return wrong_step_count(case, got, "call step once per generated position, stop as soon as every row has "
                                       "generated EOS, and never call it when max_new_tokens = 0")


def _case(name, prompt, table, max_new_tokens, eos_id, pad_id, decay=0.5, eos_ramp=0.0, dtype="float32",
          seed=None, note="", noncontig=()):
    import torch

    return make_case(name, {
        "prompt": prompt, "max_new_tokens": max_new_tokens, "eos_id": eos_id, "pad_id": pad_id,
        "_table": table.to(torch.float64), "_model": {"decay": decay, "eos": eos_id, "eos_ramp": eos_ramp},
    }, seed=seed, dtype=dtype, note=note, noncontig=tuple(noncontig))


def cases() -> list[Case]:
    import torch

    out: list[Case] = []

    def rand(name, seed, b, t0, v, max_new, eos_ramp=0.3, decay=0.5, dtype="float32", scale=1.0, note="",
             noncontig=(), eos_in_prompt=False, banned=()):
        g = torch.Generator().manual_seed(seed)
        table = torch.randn(v, v, generator=g, dtype=torch.float64) * scale
        for tok in banned:
            table[:, tok] = float("-inf")
        eos, pad = 0, v - 1 if not banned else banned[0]
        prompt = torch.randint(1, v, (b, t0), generator=g)
        if eos_in_prompt:
            prompt[:, t0 // 2] = eos
        out.append(_case(name, prompt, table, max_new, eos, pad, decay, eos_ramp * scale, dtype, seed, note, noncontig))

    # readable: V = 5, EOS = 0, PAD = 4; integer table, decay 1 -> logits are sums of table rows
    t = torch.tensor([[0., 0., 0., 0., 0.],     # row = previous token, column = next-token logit
                      [0., 0., 3., 1., 0.],
                      [1., 0., 0., 2., 0.],
                      [2., 1., 0., 0., 0.],
                      [0., 0., 0., 0., 0.]])
    out.append(_case("readable-one-row", torch.tensor([[1]]), t, 6, 0, 4, decay=0.0,
                     note="the example of the prompt: 1 -> 2 -> 3 -> EOS (0); stops after 3 steps"))
    out.append(_case("readable-two-rows", torch.tensor([[1], [3]]), t, 6, 0, 4, decay=0.0,
                     note="row 1 emits EOS first and is padded with PAD (4) until row 0 ends"))
    out.append(_case("readable-max-new-tokens", torch.tensor([[2, 1]]), t, 2, 0, 4, decay=0.0,
                     note="max_new_tokens = 2 stops before EOS is reached: 2 steps, no EOS"))
    out.append(_case("pad-equals-eos", torch.tensor([[1], [3], [2]]), t, 5, 0, 0, decay=0.0,
                     note="pad_id == eos_id (GPT-2 style): finished rows repeat EOS"))
    tie = torch.tensor([[0., 0., 0., 0.], [0., 0., 2., 2.], [1., 0., 0., 1.], [0., 1., 1., 0.]])
    out.append(_case("readable-ties", torch.tensor([[1], [3]]), tie, 4, 0, 1, decay=0.0,
                     note="exact ties in the logits: argmax takes the smallest token id"))
    out.append(_case("max-new-tokens-0", torch.tensor([[1, 2], [3, 1]]), t, 0, 0, 4, decay=0.0,
                     note="max_new_tokens = 0: the prompt comes back unchanged and step is never called"))
    out.append(_case("eos-in-prompt", torch.tensor([[1, 0, 3]]), t, 4, 0, 4, decay=0.0,
                     note="an EOS inside the prompt does not count: only generated EOS ends a row"))
    rand("whole-prefix-matters", 1, 2, 4, 6, 8, decay=0.9, eos_ramp=0.05,
         note="logits depend on every token of the prefix, not only the last: pass the whole sequence to step")
    rand("batch-8", 2, 8, 3, 10, 12)
    rand("vocab-50", 3, 4, 5, 50, 20, eos_ramp=0.15)
    rand("prompt-length-1", 4, 3, 1, 8, 10)
    rand("batch-1", 5, 1, 6, 12, 15)
    rand("never-ends", 6, 3, 2, 9, 7, eos_ramp=-1.0, note="EOS is never the argmax: exactly max_new_tokens steps")
    rand("ends-at-once", 7, 3, 2, 9, 7, eos_ramp=5.0, note="every row emits EOS at the first step")
    rand("float64", 8, 4, 3, 16, 12, dtype="float64")
    rand("float64-long", 9, 2, 8, 30, 40, dtype="float64", eos_ramp=0.08)
    rand("large-logits", 10, 4, 3, 12, 10, scale=1e4,
         note="logits around 1e4: a softmax without the max subtracted overflows (argmax needs no softmax)")
    rand("tiny-logit-gaps", 11, 4, 3, 12, 10, scale=1e-6, dtype="float64",
         note="logits differ by ~1e-6: argmax must compare the raw values")
    rand("banned-tokens", 12, 4, 3, 10, 10, banned=(9, 5),
         note="some tokens have logit -inf (never chosen); PAD is one of them")
    rand("eos-in-prompt-random", 13, 3, 6, 10, 10, eos_in_prompt=True)
    rand("noncontiguous-prompt", 14, 3, 4, 10, 10, noncontig=("prompt",), note="prompt is a non-contiguous view")
    rand("max-new-tokens-0-float64", 15, 3, 4, 10, 0, dtype="float64",
         note="max_new_tokens = 0: the prompt comes back unchanged and step is never called")
    for i, (b, t0, v, n) in enumerate([(5, 2, 7, 9), (2, 7, 20, 5), (6, 1, 4, 6)]):
        rand(f"random-{i}", 20 + i, b, t0, v, n, dtype="float32" if i % 2 == 0 else "float64")
    # pad_id = 0 with another EOS: 0 is a real id to pad with, not "no padding"
    for name, seed, dtype in (("pad-id-0", 31, "float32"), ("pad-id-0-float64", 32, "float64")):
        g = torch.Generator().manual_seed(seed)
        table = torch.randn(8, 8, generator=g, dtype=torch.float64)
        out.append(_case(name, torch.randint(4, 8, (5, 3), generator=g), table, 12, 3, 0, eos_ramp=0.25,
                         dtype=dtype, seed=seed, note="pad_id = 0, eos_id = 3: rows that generated EOS are padded "
                                                      "with 0 (0 is an id like any other, not 'no padding')"))
    # integer table with sums: many exact ties between tokens at every step
    g = torch.Generator().manual_seed(30)
    table = torch.randint(-2, 3, (6, 6), generator=g).to(torch.float64)
    out.append(_case("many-ties", torch.randint(1, 6, (4, 2), generator=g), table, 8, 0, 5, decay=1.0,
                     eos_ramp=0.0, seed=30, note="integer logits with frequent ties: the smallest id wins"))
    return out
