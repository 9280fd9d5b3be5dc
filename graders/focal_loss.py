"""Cases for focal-loss: binary (sigmoid) focal loss from logits, alpha / gamma / reduction."""

from drillcli.fixtures import Case, make_case

RETURNS = ("loss",)
REFERENCE_DTYPE = "float64"


def _alpha_on_negatives(logits, targets, alpha=0.25, gamma=2.0, reduction="mean"):
    """Focal loss with alpha weighing the negatives and 1 - alpha the positives."""
    import torch.nn.functional as F

    p = logits.sigmoid()
    ce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    loss = ce * (1 - (p * targets + (1 - p) * (1 - targets))) ** gamma
    if alpha is not None:
        loss = ((1 - alpha) * targets + alpha * (1 - targets)) * loss
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


NEAR_MISSES = {
    "alpha-on-negatives": ("your output matches alpha applied to the negative class (1 - alpha to the positives); "
                           "this problem weighs positives (target 1) by alpha and negatives by 1 - alpha, as "
                           "torchvision's sigmoid_focal_loss (see the prompt)", _alpha_on_negatives),
}


def cases() -> list[Case]:
    import torch

    out: list[Case] = []

    def add(name, logits, targets, alpha=0.25, gamma=2.0, reduction="mean", seed=None, note="",
            grad=False, noncontig=(), upstream_seed=0):
        dtype = str(logits.dtype).removeprefix("torch.")
        inputs = {"logits": logits, "targets": targets.to(logits.dtype), "alpha": alpha, "gamma": gamma,
                  "reduction": reduction}
        if grad:
            shape = logits.shape if reduction == "none" else ()
            g = torch.Generator().manual_seed(1000 + upstream_seed)
            inputs["_upstream"] = torch.randn(shape, generator=g, dtype=torch.float64).to(logits.dtype)
        out.append(make_case(name, inputs, seed=seed, dtype=dtype, note=note, grad=("logits",) if grad else (),
                             noncontig=tuple(noncontig)))

    def rand(seed, shape, dtype=torch.float32, scale=2.0, p_pos=0.3):
        g = torch.Generator().manual_seed(seed)
        x = (torch.randn(shape, generator=g, dtype=torch.float64) * scale).to(dtype)
        t = (torch.rand(shape, generator=g) < p_pos).to(dtype)
        return x, t

    f64 = torch.float64
    x = torch.tensor([2.0, -1.0, 0.5, -3.0])
    t = torch.tensor([1.0, 0.0, 0.0, 1.0])
    add("readable-4", x, t, note="the example of the prompt (alpha 0.25, gamma 2, mean)")
    add("readable-4-none", x, t, reduction="none", note="the example of the prompt, per element")
    add("readable-4-sum", x, t, reduction="sum")
    add("zero-logits", torch.zeros(4), torch.tensor([1.0, 0.0, 1.0, 0.0]), reduction="none",
        note="p = 0.5: every element is alpha_t * 0.25 * log 2")
    add("gamma-0-is-weighted-bce", *rand(1, (16,)), gamma=0.0, reduction="none", seed=1,
        note="gamma 0: alpha-weighted binary cross-entropy")
    add("gamma-0-mean-float64", *rand(22, (5, 6), f64), gamma=0.0, alpha=0.6, seed=22,
        note="gamma 0: no focusing, the alpha-weighted BCE (0.0 is a value, not 'use the default 2')")
    add("gamma-1", *rand(2, (8, 3)), gamma=1.0, seed=2)
    add("gamma-5", *rand(3, (8, 3)), gamma=5.0, seed=3, reduction="sum")
    add("gamma-non-integer", *rand(4, (6, 4)), gamma=1.5, seed=4, reduction="none")
    add("alpha-none", *rand(5, (6, 4)), alpha=None, seed=5, reduction="none", note="alpha None: no class weighting")
    add("alpha-0.75", *rand(6, (6, 4)), alpha=0.75, seed=6, reduction="none",
        note="alpha weights the positives (t = 1), 1 - alpha the negatives")
    add("alpha-1", *rand(7, (10,)), alpha=1.0, seed=7, reduction="none", note="alpha 1: negatives get weight 0")
    add("alpha-0", *rand(19, (12,)), alpha=0.0, seed=19, reduction="none",
        note="alpha 0: positives get weight 0 (0.0 is not None: test `alpha is None`, not `if alpha`)")
    add("alpha-0-grad-mean", *rand(20, (4, 5)), alpha=0.0, seed=20, grad=True, upstream_seed=4,
        note="alpha 0 with the mean: only the negatives count, with weight 1")
    add("alpha-none-mean", *rand(21, (3, 7)), alpha=None, seed=21, gamma=1.5, note="alpha None: no class weighting")
    add("multi-label-2d", *rand(8, (5, 7)), seed=8, note="(N, C) multi-label: mean over all N * C elements")
    add("dense-4d", *rand(9, (2, 3, 4, 5)), seed=9, note="(B, C, H, W) dense detection map")
    add("float64", *rand(10, (6, 5), f64), seed=10, reduction="none")
    add("float64-mean", *rand(11, (4, 9), f64), alpha=0.4, gamma=3.0, seed=11)
    add("all-negatives", rand(12, (20,))[0], torch.zeros(20), seed=12, reduction="sum",
        note="only background: alpha_t = 1 - alpha everywhere")
    add("all-positives", rand(13, (20,))[0], torch.ones(20), seed=13, reduction="none")
    big = torch.tensor([-120.0, -60.0, -20.0, 20.0, 60.0, 120.0])
    add("huge-logits", big.repeat(2), torch.tensor([1.0] * 6 + [0.0] * 6), reduction="none",
        note="|logits| up to 120: log(sigmoid(x)) underflows to log(0) = -inf; use logsigmoid / softplus")
    add("huge-logits-float64", torch.tensor([-800.0, -40.0, 40.0, 800.0] * 2, dtype=f64),
        torch.tensor([1.0] * 4 + [0.0] * 4, dtype=f64), reduction="none",
        note="|logits| up to 800 in float64: exp(800) overflows")
    add("huge-logits-mean", *rand(14, (4, 6), scale=40.0), seed=14,
        note="logits ~ +-40: confident mistakes dominate the mean")
    add("single-element", torch.tensor([0.3]), torch.tensor([1.0]), alpha=0.5, gamma=2.0, reduction="none")
    add("empty-sum", torch.zeros(0), torch.zeros(0), reduction="sum", note="no elements: the sum is 0")
    add("empty-none", torch.zeros(0, 3), torch.zeros(0, 3), reduction="none", note="no elements: an empty (0, 3) tensor")
    add("noncontiguous", *rand(15, (6, 5)), seed=15, reduction="none", noncontig=("logits", "targets"),
        note="logits and targets are non-contiguous views")
    add("grad-mean", *rand(16, (6, 4)), seed=16, grad=True, note="gradient of the mean loss w.r.t. logits")
    add("grad-none", *rand(17, (5, 3)), seed=17, reduction="none", grad=True, upstream_seed=1,
        note="gradient w.r.t. logits through the modulating factor (1 - p_t)^gamma: do not detach it")
    add("grad-float64-gamma-3", *rand(18, (4, 4), f64), gamma=3.0, alpha=0.6, seed=18, reduction="sum", grad=True,
        upstream_seed=2)
    add("grad-huge-logits", torch.tensor([-50.0, -10.0, 10.0, 50.0]), torch.tensor([1.0, 0.0, 1.0, 0.0]),
        reduction="none", grad=True, upstream_seed=3, note="gradients stay finite for saturated logits")
    return out
