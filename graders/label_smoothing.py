"""Cases for label-smoothing: F.cross_entropy(logits, target, label_smoothing=eps, reduction=...)."""

from drillcli.fixtures import Case, make_case

RETURNS = ("loss",)
REFERENCE_DTYPE = "float64"


def _over_other_classes(logits, target, smoothing=0.1, reduction="mean"):
    """Label smoothing with eps / (C - 1) on each wrong class and none on the true one."""
    import torch

    logp = torch.log_softmax(logits, dim=1)
    nll = -logp.gather(1, target.unsqueeze(1)).squeeze(1)
    others = (-logp.sum(dim=1) - nll) / (logits.shape[1] - 1)
    loss = (1 - smoothing) * nll + smoothing * others
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


NEAR_MISSES = {
    "over-other-classes": ("your output matches the smoothing mass spread as eps / (C - 1) over the wrong classes "
                           "only; this problem spreads eps / C over all C classes, the true one included, as PyTorch "
                           "(see the prompt)", _over_other_classes),
}


def cases() -> list[Case]:
    import torch

    out: list[Case] = []
    f64 = torch.float64

    def add(name, logits, target, smoothing=0.1, reduction="mean", seed=None, note="", grad=False, noncontig=(),
            upstream_seed=0):
        inputs = {"logits": logits, "target": target.to(torch.int64), "smoothing": smoothing, "reduction": reduction}
        if grad:
            g = torch.Generator().manual_seed(3000 + upstream_seed)
            shape = target.shape if reduction == "none" else ()
            inputs["_upstream"] = torch.randn(shape, generator=g, dtype=f64).to(logits.dtype)
        out.append(make_case(name, inputs, seed=seed, dtype=str(logits.dtype).removeprefix("torch."), note=note,
                             grad=("logits",) if grad else (), noncontig=tuple(noncontig)))

    def rand(seed, n, c, extra=(), dtype=torch.float32, scale=2.0):
        g = torch.Generator().manual_seed(seed)
        logits = (torch.randn(n, c, *extra, generator=g, dtype=f64) * scale).to(dtype)
        target = torch.randint(0, c, (n, *extra), generator=g)
        return logits, target

    x = torch.tensor([[2.0, 0.5, -1.0], [0.0, 1.0, 3.0]])
    y = torch.tensor([0, 1])
    add("readable-2x3", x, y, note="the example of the prompt: eps 0.1, C 3")
    add("readable-2x3-none", x, y, reduction="none", note="the example of the prompt, per row")
    add("readable-2x3-sum", x, y, reduction="sum")
    add("no-smoothing", *rand(1, 6, 5), smoothing=0.0, seed=1, note="eps 0: plain cross-entropy")
    add("no-smoothing-per-row", *rand(20, 5, 7), smoothing=0.0, seed=20, reduction="none",
        note="eps 0 per row: -log p[target]")
    add("full-smoothing", *rand(2, 6, 5), smoothing=1.0, seed=2, reduction="none",
        note="eps 1: the target is uniform over all C classes, the label is ignored")
    add("eps-0.3", *rand(3, 8, 4), smoothing=0.3, seed=3, reduction="none",
        note="eps 0.3 over C = 4: the true class gets 0.7 + 0.075, every class 0.075 (eps / C, not eps / (C - 1))")
    add("two-classes", *rand(4, 10, 2), smoothing=0.2, seed=4, reduction="none",
        note="C = 2: eps / C and eps / (C - 1) differ by a factor 2")
    add("many-classes", *rand(5, 4, 1000), smoothing=0.1, seed=5, note="C = 1000")
    add("float64", *rand(6, 5, 7, dtype=f64), smoothing=0.15, seed=6, reduction="none")
    add("float64-mean", *rand(7, 9, 3, dtype=f64), smoothing=0.05, seed=7)
    add("sequence-3d", *rand(8, 2, 5, (4,)), smoothing=0.1, seed=8,
        note="logits (N, C, L) with target (N, L): the class axis is dim 1, as in F.cross_entropy")
    add("sequence-3d-none", *rand(9, 3, 4, (5,)), smoothing=0.2, seed=9, reduction="none",
        note="per-position loss has the target's shape (N, L)")
    add("image-4d", *rand(10, 2, 3, (2, 3)), smoothing=0.1, seed=10, reduction="sum",
        note="logits (N, C, H, W), target (N, H, W)")
    add("huge-logits", *rand(11, 4, 6, scale=1e4), smoothing=0.1, seed=11,
        note="logits ~1e4: log(softmax) gives log(0); use log_softmax / logsumexp")
    add("huge-logits-float64", *rand(12, 4, 6, dtype=f64, scale=1e5), smoothing=0.1, seed=12, reduction="none")
    add("uniform-logits", torch.zeros(3, 4), torch.tensor([0, 1, 3]), smoothing=0.1, reduction="none",
        note="all logits equal: every row's loss is log(4) whatever eps is")
    add("single-row", *rand(13, 1, 5), smoothing=0.1, seed=13)
    add("empty-sum", torch.zeros(0, 4), torch.zeros(0, dtype=torch.int64), smoothing=0.1, reduction="sum",
        note="no rows: the sum is 0")
    add("noncontiguous", *rand(14, 5, 6), smoothing=0.1, seed=14, noncontig=("logits",), reduction="none",
        note="logits is a non-contiguous view")
    add("noncontiguous-3d", *rand(15, 2, 4, (3,)), smoothing=0.25, seed=15, noncontig=("logits", "target"))
    add("grad-mean", *rand(16, 6, 5), smoothing=0.1, seed=16, grad=True,
        note="gradient w.r.t. logits: softmax(logits) - smoothed target, divided by N")
    add("grad-none-3d", *rand(17, 2, 4, (3,)), smoothing=0.2, seed=17, reduction="none", grad=True, upstream_seed=1)
    add("grad-float64-sum", *rand(18, 4, 3, dtype=f64), smoothing=0.3, seed=18, reduction="sum", grad=True,
        upstream_seed=2)
    return out
