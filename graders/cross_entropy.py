"""Cases for cross-entropy from logits: values and the gradient w.r.t. the logits."""

from functools import partial

from drillcli.fixtures import Case, make_case

RETURNS = ("loss",)
REFERENCE_DTYPE = "float64"


def _variant(logits, targets, ignore_index=-100, label_smoothing=0.0, *, all_rows=False, others=False):
    """Cross-entropy with one convention changed: the mean over every row, ignored ones
    included (as zeros), or the smoothing mass spread over the C - 1 other classes."""
    import torch

    C = logits.shape[-1]
    x, t = logits.reshape(-1, C), targets.reshape(-1)
    logp = x - torch.logsumexp(x, -1, keepdim=True)
    keep = t != ignore_index
    nll = -logp.gather(1, torch.where(keep, t, 0)[:, None]).squeeze(1)
    smooth = (-logp.sum(-1) - nll) / max(C - 1, 1) if others else -logp.mean(-1)
    loss = ((1 - label_smoothing) * nll + label_smoothing * smooth) * keep
    return loss.sum() / (len(t) if all_rows else keep.sum())


NEAR_MISSES = {
    "mean-over-all-rows": ("your output matches the mean over every row, ignored ones counted as zeros; this problem "
                           "averages over the non-ignored targets only (see the prompt)",
                           partial(_variant, all_rows=True)),
    "smoothing-over-other-classes": ("your output matches label smoothing spread as eps / (C - 1) over the other "
                                     "classes; this problem spreads eps / C over all C classes, the target included, "
                                     "as PyTorch (see the prompt)", partial(_variant, others=True)),
}


def cases() -> list[Case]:
    import torch

    out: list[Case] = []

    def case(name, logits, targets, ignore_index=None, smoothing=None, upstream=1.0, note="", seed=None,
             noncontig=()):
        inputs = {"logits": logits, "targets": targets}
        if ignore_index is not None or smoothing is not None:
            inputs["ignore_index"] = -100 if ignore_index is None else ignore_index
        if smoothing is not None:
            inputs["label_smoothing"] = smoothing
        inputs["_upstream"] = torch.tensor(upstream, dtype=logits.dtype)
        out.append(make_case(name, inputs, seed=seed, dtype=str(logits.dtype).removeprefix("torch."),
                             grad=("logits",), note=note, noncontig=noncontig))

    def add(name, seed, dtype, lead, C, scale=1.0, ignore_frac=0.0, ignore_index=None, smoothing=None,
            note="", noncontig=()):
        g = torch.Generator().manual_seed(seed)
        logits = (scale * torch.randn(*lead, C, generator=g, dtype=torch.float64)).to(dtype)
        targets = torch.randint(0, C, lead, generator=g)
        if ignore_frac:
            drop = torch.rand(lead, generator=g) < ignore_frac
            drop.view(-1)[0] = False   # at least one target counts
            targets[drop] = -100 if ignore_index is None else ignore_index
        upstream = float(torch.rand((), generator=g, dtype=torch.float64)) + 0.5
        case(name, logits, targets, ignore_index, smoothing, upstream, note, seed, noncontig)

    f32, f64 = torch.float32, torch.float64
    readable = torch.tensor([[2.0, 1.0, 0.1], [0.5, 2.5, 0.0], [1.0, 1.0, 1.0]])
    case("readable-3x3", readable, torch.tensor([0, 1, 2]), note="no ignored target, no smoothing")
    case("readable-ignore", readable, torch.tensor([0, 1, -100]),
         note="the example of the prompt: row 2 is ignored, the mean is over 2 rows")
    case("readable-smoothing", readable, torch.tensor([0, 1, -100]), smoothing=0.1,
         note="the example of the prompt: label_smoothing=0.1 with an ignored row")
    case("readable-ignore-index-1", readable, torch.tensor([0, 1, 2]), ignore_index=1,
         note="ignore_index=1 is a real class id here: rows whose target is 1 are skipped")
    add("batch", 1, f32, (8,), 5)
    add("llm-layout", 2, f32, (2, 6), 11, note="(B, T, V) logits with (B, T) targets: classes on the last axis")
    add("llm-layout-padding", 3, f32, (3, 7), 13, ignore_frac=0.3, note="targets of -100 (padding) are ignored")
    add("pad-id-0", 4, f32, (4, 5), 9, ignore_frac=0.4, ignore_index=0,
        note="ignore_index=0 (a pad id): rows with target 0 are ignored")
    add("pad-id-0-smoothing", 20, f64, (2, 6), 5, ignore_frac=0.3, ignore_index=0, smoothing=0.1,
        note="ignore_index=0 with label smoothing: 0 is a real value of ignore_index, not 'unset'")
    add("smoothing-0.2", 5, f32, (6,), 7, smoothing=0.2)
    add("smoothing-and-padding", 6, f32, (2, 8), 10, ignore_frac=0.4, smoothing=0.1,
        note="the smoothing term is averaged over the non-ignored rows only")
    add("smoothing-1.0", 7, f64, (5,), 4, smoothing=1.0, note="label_smoothing=1: the target is uniform")
    add("float64", 8, f64, (4, 6), 8)
    add("float64-padding-smoothing", 9, f64, (3, 5), 17, ignore_frac=0.5, ignore_index=-1, smoothing=0.05)
    add("large-logits", 10, f32, (4,), 6, scale=1000.0,
        note="logits in the thousands: exp() overflows without the max shift, log(softmax) gives -inf")
    add("large-logits-float64", 11, f64, (3, 4), 5, scale=1e4, smoothing=0.1,
        note="logits of 1e4: log-probabilities of -1e4 must stay finite for the smoothing term")
    g = torch.Generator().manual_seed(12)
    confident = torch.randn(5, 4, generator=g)
    t = torch.randint(0, 4, (5,), generator=g)
    confident[torch.arange(5), t] = 60.0
    case("confident-correct", confident, t, note="the target logit leads by ~60: loss near 0, no NaN")
    wrong = torch.randn(5, 4, generator=g, dtype=torch.float64)
    wrong[torch.arange(5), t] = -800.0
    case("confident-wrong", wrong, t, upstream=2.0, seed=12,
         note="the target logit is -800: its probability underflows, the loss is about 800")
    add("one-class", 13, f32, (4,), 1, note="C = 1: log p = 0, the loss is 0")
    add("one-row", 14, f32, (1,), 6)
    g = torch.Generator().manual_seed(15)
    case("unbatched", torch.randn(5, generator=g), torch.tensor(3), seed=15,
         note="logits (C,) and a 0-dim target: a single example")
    add("one-row-counts", 16, f32, (6,), 5, ignore_frac=0.999,
        note="every row but the first is ignored: the mean is over 1 row")
    add("vocab-1000", 17, f32, (4,), 1000, scale=3.0)
    add("noncontiguous", 18, f32, (3, 4), 7, ignore_frac=0.2, noncontig=("logits", "targets"),
        note="logits and targets are non-contiguous views")
    add("noncontiguous-float64", 19, f64, (5,), 6, smoothing=0.1, noncontig=("logits",))
    for i, (lead, C) in enumerate([((2, 3, 2), 4), ((9,), 3), ((1, 5), 2)]):
        add(f"random-shape-{i}", 20 + i, f32 if i % 2 == 0 else f64, lead, C, scale=2.0,
            ignore_frac=0.25 * (i != 1), smoothing=[None, 0.15, 0.3][i])
    return out
