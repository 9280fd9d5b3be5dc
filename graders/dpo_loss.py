"""Cases for dpo-loss: the sigmoid (cDPO) DPO loss from per-sequence log-probs, its gradient
w.r.t. the policy log-probs, and the detached implicit rewards."""

from functools import partial

from drillcli.fixtures import Case, make_case

RETURNS = ("loss", "chosen_rewards", "rejected_rewards")
REFERENCE_DTYPE = "float64"
GRAD = ("policy_chosen_logps", "policy_rejected_logps")


def run(entry, kind, case, names):
    """The default harness (values, then backward through the loss), then the rewards must be
    detached: they are logged, never trained on."""
    import torch

    from drillcli.harness import WrongReturn, run_case

    out = run_case(entry, kind, case, names)
    for name in ("chosen_rewards", "rejected_rewards"):
        value = out[name]
        if isinstance(value, torch.Tensor) and value.requires_grad:
            raise WrongReturn(f"{name} is still attached to the autograd graph: the implicit rewards are "
                              f"for logging, return beta * (policy - reference).detach()")
    return out


def _variant(policy_chosen_logps, policy_rejected_logps, reference_chosen_logps, reference_rejected_logps,
             beta=0.1, label_smoothing=0.0, *, robust=False, reference_free=False):
    """DPO with one convention changed: trl's loss_type="robust" (the smoothing term with a plus
    sign and a 1 / (1 - 2 ls) factor), or reference_free=True (the reference log-ratio taken as 0
    in the loss; the rewards still use the reference, as trl's older reference_free did)."""
    import torch.nn.functional as F

    pi = policy_chosen_logps - policy_rejected_logps
    ref = 0.0 if reference_free else reference_chosen_logps - reference_rejected_logps
    x = beta * (pi - ref)
    if robust:
        losses = (-(1 - label_smoothing) * F.logsigmoid(x) + label_smoothing * F.logsigmoid(-x)) / (1 - 2 * label_smoothing)
    else:
        losses = -(1 - label_smoothing) * F.logsigmoid(x) - label_smoothing * F.logsigmoid(-x)
    chosen = beta * (policy_chosen_logps - reference_chosen_logps).detach()
    rejected = beta * (policy_rejected_logps - reference_rejected_logps).detach()
    return losses.mean(), chosen, rejected


NEAR_MISSES = {
    "robust-dpo": ("your output matches robust DPO (trl's loss_type='robust': + ls * logsigmoid(-x), divided by "
                   "1 - 2 ls); this problem asks for conservative DPO, -(1 - ls) * logsigmoid(x) - ls * "
                   "logsigmoid(-x), trl's default 'sigmoid' loss (see the prompt)", partial(_variant, robust=True)),
    "reference-free": ("your output matches reference-free DPO (the reference log-ratio left out of the logits); "
                       "this problem subtracts the reference's log-ratio: logits = beta * ((pc - pr) - (rc - rr)) "
                       "(see the prompt)", partial(_variant, reference_free=True)),
}


def cases() -> list[Case]:
    import torch

    out: list[Case] = []
    f32, f64 = torch.float32, torch.float64

    def case(name, pc, pr, rc, rr, beta=None, ls=None, seed=None, note="", noncontig=(), upstream=None):
        dtype = pc.dtype
        inputs = {"policy_chosen_logps": pc, "policy_rejected_logps": pr.to(dtype),
                  "reference_chosen_logps": rc.to(dtype), "reference_rejected_logps": rr.to(dtype)}
        if beta is not None or ls is not None:
            inputs["beta"] = 0.1 if beta is None else beta
        if ls is not None:
            inputs["label_smoothing"] = ls
        if upstream is None:
            upstream = 1.0 + 0.25 * (len(out) % 4)
        inputs["_upstream"] = torch.tensor(upstream, dtype=dtype)
        out.append(make_case(name, inputs, seed=seed, dtype=str(dtype).removeprefix("torch."), note=note,
                             grad=GRAD, noncontig=tuple(noncontig)))

    def rand(seed, B, dtype=f32, low=-300.0, high=-20.0, drift=2.0):
        """Sequence log-probs (sums over tokens, so tens to hundreds below 0); the policy is the
        reference moved by ~drift nats."""
        g = torch.Generator().manual_seed(seed)
        rc = torch.empty(B, dtype=f64).uniform_(low, high, generator=g)
        rr = torch.empty(B, dtype=f64).uniform_(low, high, generator=g)
        pc = rc + drift * torch.randn(B, generator=g, dtype=f64)
        pr = rr + drift * torch.randn(B, generator=g, dtype=f64)
        return tuple(t.to(dtype) for t in (pc, pr, rc, rr))

    def add(name, seed, B, dtype=f32, beta=None, ls=None, note="", noncontig=(), **kw):
        case(name, *rand(seed, B, dtype, **kw), beta=beta, ls=ls, seed=seed, note=note, noncontig=noncontig)

    pc, pr = torch.tensor([-1.0, -3.0]), torch.tensor([-2.0, -1.0])
    rc, rr = torch.tensor([-1.2, -2.5]), torch.tensor([-1.8, -1.5])
    case("readable-example", pc, pr, rc, rr, beta=0.5, ls=0.0,
         note="the example of the prompt: logits = 0.5 * ((pc - pr) - (rc - rr)) = [0.2, -0.5]")
    case("readable-smoothing", pc, pr, rc, rr, beta=0.5, ls=0.1,
         note="the example of the prompt with label_smoothing=0.1: (1 - ls) * -logsigmoid(x) + ls * -logsigmoid(-x)")
    case("readable-defaults", pc, pr, rc, rr,
         note="only the four log-prob tensors are passed: the defaults beta=0.1, label_smoothing=0.0")
    case("policy-equals-reference", pc, pr, pc.clone(), pr.clone(), beta=0.3,
         note="policy == reference (the first step of DPO training): logits exactly 0, every loss is log 2, "
              "the rewards are 0, and d(-logsigmoid)/dx at 0 is -1/2")
    add("batch-16", 1, 16, beta=0.1, note="realistic sequence log-probs (-300 to -20), beta 0.1")
    add("batch-16-smoothing", 2, 16, beta=0.1, ls=0.2, note="label_smoothing=0.2 (cDPO)")
    add("smoothing-0-explicit", 3, 8, f64, beta=0.25, ls=0.0,
        note="label_smoothing=0.0 passed explicitly: the plain DPO loss")
    add("beta-0", 4, 6, beta=0.0, ls=0.1,
        note="beta=0: logits and rewards are 0 and the loss is log 2 (0 is a real value of beta, not 'unset')")
    add("beta-0-float64", 18, 4, f64, beta=0.0, ls=0.0, note="beta=0 in float64 without smoothing: the loss is log 2")
    add("beta-small", 5, 10, beta=0.01, note="beta=0.01: logits near 0, loss near log 2")
    add("beta-large", 6, 10, beta=5.0, ls=0.1, note="beta=5: logits of tens, both terms far from log 2")
    add("float64", 7, 12, f64, beta=0.1, ls=0.05, note="float64 inputs: compared to ~1e-10, keep the computation in float64")
    add("float64-beta-large", 8, 7, f64, beta=2.0, note="float64, beta=2")
    add("batch-1", 9, 1, beta=0.1, note="B=1: the mean is the single loss; rewards have shape (1,)")
    add("batch-1-float64-smoothing", 10, 1, f64, beta=0.5, ls=0.3, note="B=1 in float64 with label_smoothing=0.3")
    add("smoothing-max", 11, 8, beta=0.2, ls=0.45, note="label_smoothing=0.45, near the top of [0, 0.5)")

    g = torch.Generator().manual_seed(12)
    rc = torch.empty(6, dtype=f64).uniform_(-3000, -2000, generator=g)
    rr = torch.empty(6, dtype=f64).uniform_(-3000, -2000, generator=g)
    half = torch.tensor([200.0, -200.0, 450.0, -450.0, 1.5, -750.0], dtype=f64)   # half the log-ratio margin
    case("huge-margins", (rc + half).float(), (rr - half).float(), rc.float(), rr.float(), beta=0.5, ls=0.0,
         seed=12, note="logits of +-200 to -750: -log(sigmoid(x)) is -log(0) = inf and log(1 + exp(-x)) overflows in "
                       "float32; use F.logsigmoid (or softplus(-x))")
    case("huge-margins-smoothing", (rc - half).float(), (rr + half).float(), rc.float(), rr.float(),
         beta=0.5, ls=0.1, seed=12,
         note="huge logits of both signs with smoothing: the -logsigmoid(-x) term overflows just as the first one")
    case("huge-margins-float64", rc + 2.5 * half, rr - 2.5 * half, rc, rr, beta=1.0, ls=0.25, seed=12,
         note="float64 logits of up to +-3750: exp overflows past 709, sigmoid underflows past -745")
    g = torch.Generator().manual_seed(13)
    base = torch.empty(5, dtype=f64).uniform_(-2000, -1000, generator=g)
    pc, pr = base - 5.0, base + 1000.0
    case("confident-wrong", pc.float(), pr.float(), base.float(), base.float(), beta=0.5, ls=0.0, seed=13,
         note="the policy strongly prefers the rejected answer: logits -502.5, the loss is about 502.5, "
              "gradient -beta/B on the chosen log-prob")
    case("all-edges", *rand(14, 6, f32, low=-3000.0, high=-1500.0, drift=300.0), beta=10.0, ls=0.45,
         seed=14, note="beta=10, label_smoothing=0.45 and log-prob gaps in the thousands all at once")
    add("noncontiguous", 15, 9, beta=0.2, ls=0.1, noncontig=("policy_chosen_logps", "reference_rejected_logps"),
        note="non-contiguous input views")
    add("batch-64", 16, 64, beta=0.1, ls=0.05, note="B=64: the loss is the mean over the batch, not the sum")
    add("short-sequences-float64", 17, 20, f64, beta=0.3, low=-8.0, high=-0.5, drift=0.5,
        note="per-token-average-sized log-probs (-8 to -0.5)")
    return out
