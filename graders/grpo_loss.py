"""Cases for grpo-loss: group-normalised advantages, the clipped surrogate with a k3 KL penalty,
masked per-sequence token means; values, advantages and the gradient w.r.t. logp."""

from functools import partial

from drillcli.fixtures import Case, make_case

RETURNS = ("loss", "advantages")
REFERENCE_DTYPE = "float64"


def _variant(logp, old_logp, ref_logp, rewards, mask, beta=0.04, clip_eps=0.2, eps=1e-4, *, biased=False,
             aggregation="sequence"):
    """GRPO with one convention changed: the population std (divide by G), or the token-level
    aggregation ("token": sum over every valid token of the batch / their count, as DAPO and trl's
    loss_type="bnpo"; "constant": sum / (number of sequences * T), as Dr. GRPO)."""
    import torch

    std = rewards.std(dim=-1, keepdim=True, unbiased=not biased)
    adv = (rewards - rewards.mean(dim=-1, keepdim=True)) / (std + eps)
    A = adv.unsqueeze(-1)
    ratio = torch.exp(logp - old_logp)
    surrogate = torch.min(ratio * A, torch.clamp(ratio, 1 - clip_eps, 1 + clip_eps) * A)
    d = ref_logp - logp
    per_token = -(surrogate - beta * (torch.exp(d) - d - 1))
    m = mask.to(logp.dtype)
    if aggregation == "token":
        loss = (per_token * m).sum() / m.sum()
    elif aggregation == "constant":
        loss = (per_token * m).sum() / m.numel()
    else:
        loss = ((per_token * m).sum(-1) / m.sum(-1)).mean()
    return loss, adv


NEAR_MISSES = {
    "biased-std": ("your output matches advantages normalised by the population std (divide by G, unbiased=False); "
                   "this problem uses the unbiased std (divide by G - 1, torch.std's default, as TRL and "
                   "DeepSeekMath) (see the prompt)", partial(_variant, biased=True)),
    "token-mean": ("your output matches the token-level mean (sum over every valid token of the batch divided by "
                   "their number, as DAPO / trl's loss_type='bnpo'); this problem averages each completion's valid "
                   "tokens first, then the completions (see the prompt)", partial(_variant, aggregation="token")),
    "constant-normaliser": ("your output matches the sum over valid tokens divided by (number of completions * T), "
                            "as Dr. GRPO; this problem averages each completion over its own valid tokens, then the "
                            "completions (see the prompt)", partial(_variant, aggregation="constant")),
}


def cases() -> list[Case]:
    import torch

    out: list[Case] = []
    f32, f64 = torch.float32, torch.float64

    def case(name, logp, old, ref, rewards, mask, beta=None, clip_eps=None, eps=None, seed=None, note="",
             noncontig=()):
        dtype = logp.dtype
        inputs = {"logp": logp, "old_logp": old.to(dtype), "ref_logp": ref.to(dtype), "rewards": rewards.to(dtype),
                  "mask": mask.to(torch.bool)}
        given = {"beta": beta, "clip_eps": clip_eps, "eps": eps}
        defaults = {"beta": 0.04, "clip_eps": 0.2, "eps": 1e-4}
        last = max((i for i, k in enumerate(given) if given[k] is not None), default=-1)
        for i, k in enumerate(given):            # pass a parameter (and those before it) only when set
            if i <= last:
                inputs[k] = defaults[k] if given[k] is None else given[k]
        g = torch.Generator().manual_seed(7000 + len(out))
        inputs["_upstream"] = (0.5 + torch.rand((), generator=g, dtype=f64)).to(dtype)
        out.append(make_case(name, inputs, seed=seed, dtype=str(dtype).removeprefix("torch."), note=note,
                             grad=("logp",), noncontig=tuple(noncontig)))

    def rand(seed, lead, T, dtype=f32, drift=0.1, ref_drift=0.3, rewards="normal", min_len=1, full=False):
        """Token log-probs of G completions (lead = (G,) or (B, G)), the old policy `drift` nats
        away, the reference `ref_drift` away, right-padded masks with lengths in [min_len, T]."""
        g = torch.Generator().manual_seed(seed)
        logp = -(torch.rand(*lead, T, generator=g, dtype=f64) * 3 + 0.01)
        old = logp + drift * torch.randn(*lead, T, generator=g, dtype=f64)
        ref = logp + ref_drift * torch.randn(*lead, T, generator=g, dtype=f64)
        if rewards == "binary":
            r = (torch.rand(*lead, generator=g) < 0.5).to(f64)
            r.view(-1, lead[-1])[:, 0], r.view(-1, lead[-1])[:, 1] = 1.0, 0.0   # no all-equal group by accident
        else:
            r = torch.randn(*lead, generator=g, dtype=f64)
        lengths = torch.randint(min_len, T + 1, lead, generator=g)
        if full:
            lengths[:] = T
        mask = torch.arange(T) < lengths.unsqueeze(-1)
        return logp.to(dtype), old.to(dtype), ref.to(dtype), r.to(dtype), mask

    def add(name, seed, lead, T, dtype=f32, beta=None, clip_eps=None, eps=None, note="", noncontig=(), **kw):
        case(name, *rand(seed, lead, T, dtype, **kw), beta=beta, clip_eps=clip_eps, eps=eps, seed=seed, note=note,
             noncontig=noncontig)

    logp = torch.tensor([[-1.0, -2.0, -0.5], [-0.5, -1.5, -1.0], [-2.0, -1.0, -3.0]])
    old = torch.tensor([[-1.0, -2.5, -0.5], [-0.5, -1.0, -1.0], [-2.0, -1.0, -3.0]])
    ref = torch.tensor([[-1.2, -2.0, -0.5], [-0.5, -1.5, -0.7], [-2.0, -1.0, -3.0]])
    r = torch.tensor([1.0, 0.0, 0.5])
    mask = torch.tensor([[1, 1, 1], [1, 1, 0], [1, 0, 0]], dtype=torch.bool)
    case("readable-example", logp, old, ref, r, mask, beta=0.1, clip_eps=0.2, eps=1e-4,
         note="the example of the prompt: advantages [0.9998, -0.9998, 0], one token clipped on each side, "
              "a masked token with a nonzero KL")
    case("readable-beta-0", logp, old, ref, r, mask, beta=0.0,
         note="the example of the prompt with beta=0: no KL term (0 is a real value of beta, not 'unset')")
    case("readable-defaults", logp, old, ref, r, mask,
         note="only the five tensors: the defaults beta=0.04, clip_eps=0.2, eps=1e-4")
    case("all-equal-rewards", logp, old, ref, torch.ones(3), mask, beta=0.1,
         note="every completion got the same reward: std 0, advantages exactly 0, only the KL term remains")
    case("all-equal-rewards-beta-0", logp, old, ref, torch.zeros(3), mask, beta=0.0,
         note="equal rewards and beta=0: advantages 0 and the loss is exactly 0 (eps keeps 0 / 0 away)")
    add("on-policy", 1, (4,), 6, beta=0.04, drift=0.0,
        note="old_logp == logp (one update per batch): every ratio is exactly 1, nothing is clipped")
    add("binary-rewards", 2, (8,), 7, beta=0.04, rewards="binary", note="0/1 correctness rewards, G=8, padded")
    add("continuous-rewards", 3, (4,), 6, beta=0.04, note="real-valued rewards, one prompt, padded completions")
    add("float64", 4, (6,), 8, f64, beta=0.04, drift=0.2, note="float64 inputs: compared to ~1e-10")
    add("beta-0-float64", 5, (5,), 6, f64, beta=0.0, drift=0.3, note="beta=0 in float64: the KL term vanishes")
    add("eps-0", 6, (4,), 5, f64, beta=0.04, eps=0.0,
        note="eps=0 (distinct rewards): advantages are exactly (r - mean) / std")
    add("clip-eps-0", 7, (4,), 5, beta=0.04, clip_eps=0.0, drift=0.2,
        note="clip_eps=0: the clipped ratio is exactly 1")
    add("edges-together", 8, (3,), 6, beta=0.0, clip_eps=0.0, eps=0.0, drift=0.4,
        note="beta=0, clip_eps=0 and eps=0 at once")

    # the four clip regimes, one per completion: A > 0 with ratio > 1 + eps (clipped), A < 0 with
    # ratio < 1 - eps (clipped), A > 0 with ratio < 1 - eps and A < 0 with ratio > 1 + eps (not clipped)
    g = torch.Generator().manual_seed(9)
    lp = -(torch.rand(4, 5, generator=g, dtype=f64) * 2 + 0.05)
    shift = torch.tensor([0.6, -0.6, -0.6, 0.6], dtype=f64)[:, None] + 0.1 * torch.rand(4, 5, generator=g, dtype=f64)
    rw = torch.tensor([1.0, -1.0, 0.8, -0.8], dtype=f64)
    rf = lp + 0.2 * torch.randn(4, 5, generator=g, dtype=f64)
    full = torch.ones(4, 5, dtype=torch.bool)
    case("clip-regimes", lp.float(), (lp - shift).float(), rf.float(), rw.float(), full, beta=0.04, seed=9,
         note="row 0: A > 0, ratio ~1.9 -> clipped to 1.2 (no gradient); row 1: A < 0, ratio ~0.5 -> clipped to 0.8; "
              "rows 2, 3: the unclipped sides (min picks ratio * A)")
    case("clip-regimes-float64", lp, lp - shift, rf, rw, full, beta=0.0, clip_eps=0.3, seed=9,
         note="the four clip regimes in float64 with clip_eps=0.3")
    add("clip-eps-wide", 22, (5,), 6, f64, beta=0.04, clip_eps=0.9, drift=1.0,
        note="clip_eps=0.9: ratios are clipped to [0.1, 1.9]")
    add("clip-both-sides", 10, (6,), 8, beta=0.04, drift=0.5, note="ratios from ~0.2 to ~5: many tokens clipped")
    add("masks-varied-lengths", 11, (6,), 10, beta=0.04, drift=0.2,
        note="completions of 1 to 10 valid tokens: each completion is averaged over its own valid tokens")
    add("short-completions", 12, (6,), 3, beta=0.1, drift=0.3,
        note="completions of 1 to 3 valid tokens out of T=3")
    case("single-token-completions", *rand(13, (5,), 4, f32, drift=0.3)[:4], torch.tensor(
        [[1, 0, 0, 0], [1, 1, 1, 1], [1, 0, 0, 0], [1, 1, 0, 0], [1, 0, 0, 0]], dtype=torch.bool), beta=0.04, seed=13,
        note="three completions of one token next to full ones: the sequence mean weighs them equally")
    add("batched-prompts", 14, (3, 4), 6, beta=0.04, drift=0.2,
        note="rewards (B, G) = (3, 4): each prompt's group is normalised separately (over the last axis)")
    lp2, old2, ref2, r2, m2 = rand(15, (3, 4), 5, f64, drift=0.2)
    r2[1] = 0.5
    case("batched-one-group-equal", lp2, old2, ref2, r2, m2, beta=0.04, seed=15,
         note="the second prompt's rewards are all equal: its advantages are 0, the others are normalised")
    add("large-kl", 16, (4,), 6, beta=1.0, ref_drift=3.0, note="the reference is far (3 nats per token) and beta=1")
    add("group-of-2", 17, (2,), 5, beta=0.04, drift=0.2, note="G=2: the unbiased std divides by 1")
    add("one-token-length", 18, (4,), 1, beta=0.04, drift=0.3, note="T=1")
    add("noncontiguous", 19, (2, 3), 5, beta=0.04, drift=0.2, noncontig=("logp", "old_logp", "rewards", "mask"),
        note="non-contiguous input views")
    add("float64-batched", 20, (2, 5), 7, f64, beta=0.02, clip_eps=0.1, drift=0.3,
        note="two prompts in float64 with clip_eps=0.1")
    add("bigger", 21, (4, 8), 32, beta=0.04, drift=0.15, rewards="binary",
        note="B=4 prompts x G=8 completions x T=32 tokens, 0/1 rewards")
    return out
