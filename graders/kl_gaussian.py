"""Cases for kl-gaussian: KL(q || p) between diagonal Gaussians given means and log-variances."""

from drillcli.fixtures import Case, make_case

RETURNS = ("kl",)
REFERENCE_DTYPE = "float64"


def _reversed(mu_q, logvar_q, mu_p=None, logvar_p=None):
    """KL(p || q) where KL(q || p) is asked."""
    import torch

    if mu_p is None:
        mu_p, logvar_p = torch.zeros_like(mu_q), torch.zeros_like(logvar_q)
    dist = ((mu_q - mu_p) * torch.exp(-0.5 * logvar_q)) ** 2
    return (0.5 * (torch.exp(logvar_p - logvar_q) + dist - 1 - (logvar_p - logvar_q))).sum(dim=-1)


NEAR_MISSES = {
    "reversed-direction": ("your output matches KL(p || q), the divergence in the other direction; this problem "
                           "asks for KL(q || p), the VAE term with q the posterior (see the prompt)", _reversed),
}


def cases() -> list[Case]:
    import torch

    out: list[Case] = []
    f64 = torch.float64

    def add(name, mu_q, logvar_q, mu_p=None, logvar_p=None, seed=None, note="", grad=False, noncontig=(),
            upstream_seed=0):
        dtype = mu_q.dtype
        inputs = {"mu_q": mu_q, "logvar_q": logvar_q.to(dtype),
                  "mu_p": None if mu_p is None else mu_p.to(dtype),
                  "logvar_p": None if logvar_p is None else logvar_p.to(dtype)}
        grads = ()
        if grad:
            g = torch.Generator().manual_seed(5000 + upstream_seed)
            inputs["_upstream"] = torch.randn(mu_q.shape[:-1], generator=g, dtype=f64).to(dtype)
            grads = tuple(n for n in ("mu_q", "logvar_q", "mu_p", "logvar_p") if inputs[n] is not None)
        out.append(make_case(name, inputs, seed=seed, dtype=str(dtype).removeprefix("torch."), note=note,
                             grad=grads, noncontig=tuple(noncontig)))

    def rand(seed, shape, dtype=torch.float32, lv_scale=1.0, mu_scale=1.0, prior_shape=None):
        g = torch.Generator().manual_seed(seed)
        ps = shape if prior_shape is None else prior_shape
        mq = torch.randn(shape, generator=g, dtype=f64) * mu_scale
        lq = torch.randn(shape, generator=g, dtype=f64) * lv_scale
        mp = torch.randn(ps, generator=g, dtype=f64) * mu_scale
        lp = torch.randn(ps, generator=g, dtype=f64) * lv_scale
        return tuple(t.to(dtype) for t in (mq, lq, mp, lp))

    add("readable-2d", torch.tensor([1.0, 0.0]), torch.tensor([0.0, 0.0]), torch.tensor([0.0, 0.0]),
        torch.tensor([0.0, 0.6931471805599453]), note="the example of the prompt: 1-D input (D,) gives a 0-dim KL")
    add("readable-standard-prior", torch.tensor([[0.5, -1.0, 0.0]]), torch.tensor([[0.0, -1.0, 1.0]]),
        note="p is None: the standard normal prior N(0, I), as in a VAE")
    add("same-distribution", *(lambda t: (t[0], t[1], t[0].clone(), t[1].clone()))(rand(1, (3, 4))), seed=1,
        note="q == p: the KL is exactly 0")
    add("random-batch", *rand(2, (5, 6)), seed=2)
    add("random-batch-3d", *rand(3, (2, 3, 4)), seed=3, note="(B, T, D) latents: KL per (B, T)")
    add("standard-prior-batch", *rand(4, (6, 8))[:2], seed=4, note="p is None")
    add("standard-prior-float64", *rand(5, (4, 5), f64)[:2], seed=5)
    add("float64", *rand(6, (4, 7), f64), seed=6)
    add("broadcast-prior", *rand(7, (5, 3), prior_shape=(3,)), seed=7,
        note="a learned prior of shape (D,) broadcast over the batch")
    add("latent-dim-1", *rand(8, (6, 1)), seed=8, note="D = 1")
    add("single-sample", *rand(9, (1, 5)), seed=9)
    add("zero-dim-latent-sum", *rand(10, (3, 0)), seed=10, note="D = 0: an empty sum, KL 0 per sample")
    add("wide-variances", *rand(11, (4, 6), lv_scale=5.0), seed=11, note="log-variances ~ +-10: variances 1e-4 to 1e4")
    add("large-means", *rand(12, (4, 6), mu_scale=100.0), seed=12, note="means ~100: the squared-distance term dominates")
    add("extreme-logvars", torch.tensor([[0.0, 0.5], [1.0, 0.0], [-2.0, 0.0]]),
        torch.tensor([[-110.0, 0.0], [40.0, 1.0], [-60.0, 0.0]]),
        torch.tensor([[0.0, 0.0], [0.0, 0.0], [-2.0, 0.0]]),
        torch.tensor([[-85.0, 0.0], [38.0, 0.0], [-61.0, 0.0]]),
        note="float32 log-variances down to -110: exp(-110) is 0 in float32, so log(exp(logvar)) is -inf; use logvar directly")
    add("extreme-logvars-float64", torch.tensor([[0.0, 3.0]], dtype=f64), torch.tensor([[-760.0, 600.0]], dtype=f64),
        torch.tensor([[0.0, 3.5]], dtype=f64), torch.tensor([[-700.0, 601.0]], dtype=f64),
        note="float64 log-variances down to -760: exp(-760) underflows to 0")
    add("tiny-variances-equal-means", torch.tensor([[0.5, -1.0, 2.0], [0.0, 3.0, -2.0]]),
        torch.tensor([[-108.0, -110.0, -99.0], [-110.0, -60.0, 40.0]]), torch.tensor([[0.5, -1.0, 2.0], [0.0, 3.0, -2.0]]),
        torch.tensor([[-110.0, -105.0, -100.0], [-108.0, -100.0, 40.0]]),
        note="both log-variances near -110, equal means: exp(logvar) is 0 in float32, so exp(lv_q) / exp(lv_p) and "
             "(mu_q - mu_p)^2 / exp(lv_p) are 0 / 0 and (mu_q - mu_p)^2 * exp(-lv_p) is 0 * inf; "
             "use ((mu_q - mu_p) * exp(-lv_p / 2))^2")
    add("tiny-variances-equal-means-float64", torch.tensor([[1.0, -2.0]], dtype=f64),
        torch.tensor([[-758.0, -700.0]], dtype=f64), torch.tensor([[1.0, -2.0]], dtype=f64),
        torch.tensor([[-760.0, -745.0]], dtype=f64),
        note="float64 log-variances near -760 with equal means: exp(-760) is 0 and exp(760) is inf")
    add("noncontiguous", *rand(13, (4, 5)), seed=13, noncontig=("mu_q", "logvar_q", "mu_p", "logvar_p"),
        note="all four inputs are non-contiguous views")
    add("grad-random", *rand(14, (3, 4)), seed=14, grad=True, note="gradients w.r.t. all four inputs")
    add("grad-standard-prior", *rand(15, (4, 3))[:2], seed=15, grad=True, upstream_seed=1,
        note="VAE case: dKL/dmu = mu, dKL/dlogvar = (exp(logvar) - 1) / 2")
    add("grad-float64", *rand(16, (2, 3, 5), f64), seed=16, grad=True, upstream_seed=2)
    add("grad-broadcast-prior", *rand(17, (4, 3), prior_shape=(3,)), seed=17, grad=True, upstream_seed=3,
        note="the prior's gradient is summed over the batch it was broadcast to")
    add("grad-tiny-variances", torch.tensor([[0.3, -0.7]]), torch.tensor([[-100.0, -109.0]]), torch.tensor([[0.3, -0.7]]),
        torch.tensor([[-102.0, -110.0]]), grad=True, upstream_seed=4,
        note="gradients at log-variances near -110 with equal means: finite, no 0 * inf")
    add("asymmetry-check", torch.zeros(1, 2), torch.tensor([[2.0, -2.0]]), torch.zeros(1, 2), torch.zeros(1, 2),
        note="KL(q || p) != KL(p || q): wide-vs-narrow variances")
    return out
