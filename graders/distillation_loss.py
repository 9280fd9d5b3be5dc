"""Cases for distillation-loss: alpha * T^2 * KL(teacher_T || student_T) + (1 - alpha) * CE,
both averaged over the non-ignored rows; values and the gradient w.r.t. the student logits."""

from functools import partial

from drillcli.fixtures import Case, make_case

RETURNS = ("loss",)
REFERENCE_DTYPE = "float64"


def _variant(student_logits, teacher_logits, labels, T=2.0, alpha=0.5, ignore_index=-100, *, reverse=False,
             t_squared=True, per_element=False, all_rows=False):
    """The loss with one convention changed: KL(student || teacher), no T^2 factor, the KL
    averaged over rows * classes (F.kl_div's reduction='mean'), or the KL averaged over every
    row, ignored ones included."""
    import torch

    keep = labels != ignore_index
    log_q = torch.log_softmax(student_logits / T, -1)
    log_p = torch.log_softmax(teacher_logits / T, -1)
    if reverse:
        log_p, log_q = log_q, log_p
    kl_rows = (log_p.exp() * (log_p - log_q)).sum(-1)
    kl = kl_rows.mean() if all_rows else kl_rows[keep].mean()
    if per_element:
        kl = kl / student_logits.shape[-1]
    logp = torch.log_softmax(student_logits[keep], -1)
    ce = -logp.gather(1, labels[keep][:, None]).mean()
    return alpha * (T ** 2 if t_squared else 1.0) * kl + (1 - alpha) * ce


NEAR_MISSES = {
    "reversed-kl": ("your output matches KL(student || teacher), the reverse KL; this problem asks for "
                    "KL(teacher || student) = sum p_teacher * (log p_teacher - log p_student), Hinton's "
                    "distillation (see the prompt)", partial(_variant, reverse=True)),
    "no-t-squared": ("your output matches the KL term without the T^2 factor; this problem multiplies it by T^2 so "
                     "that its gradients keep their scale as T changes (see the prompt)",
                     partial(_variant, t_squared=False)),
    "kl-mean-over-classes": ("your output matches the KL averaged over rows and classes (F.kl_div's reduction='mean'); "
                             "this problem sums over the classes and averages over the rows ('batchmean') "
                             "(see the prompt)", partial(_variant, per_element=True)),
    "kl-over-all-rows": ("your output matches the KL term averaged over every row, ignored ones included; this problem "
                         "leaves rows whose label is ignore_index out of both terms (see the prompt)",
                         partial(_variant, all_rows=True)),
}


def cases() -> list[Case]:
    import torch

    out: list[Case] = []
    f32, f64 = torch.float32, torch.float64

    def case(name, s, t, y, T=None, alpha=None, ignore_index=None, seed=None, note="", noncontig=()):
        dtype = s.dtype
        inputs = {"student_logits": s, "teacher_logits": t.to(dtype), "labels": y}
        given = {"T": T, "alpha": alpha, "ignore_index": ignore_index}
        defaults = {"T": 2.0, "alpha": 0.5, "ignore_index": -100}
        last = max((i for i, k in enumerate(given) if given[k] is not None), default=-1)
        for i, k in enumerate(given):            # pass a parameter (and those before it) only when set
            if i <= last:
                inputs[k] = defaults[k] if given[k] is None else given[k]
        g = torch.Generator().manual_seed(9000 + len(out))
        inputs["_upstream"] = (0.5 + torch.rand((), generator=g, dtype=f64)).to(dtype)
        out.append(make_case(name, inputs, seed=seed, dtype=str(dtype).removeprefix("torch."), note=note,
                             grad=("student_logits",), noncontig=tuple(noncontig)))

    def rand(seed, N, C, dtype=f32, scale=2.0, teacher_scale=None, ignore_frac=0.0, ignore_index=-100, close=False):
        g = torch.Generator().manual_seed(seed)
        t = (teacher_scale or scale) * torch.randn(N, C, generator=g, dtype=f64)
        s = (t + 0.5 * scale * torch.randn(N, C, generator=g, dtype=f64)) if close \
            else scale * torch.randn(N, C, generator=g, dtype=f64)
        y = torch.randint(0, C, (N,), generator=g)
        if ignore_frac:
            drop = torch.rand(N, generator=g) < ignore_frac
            drop[0] = False                   # at least one row counts
            y[drop] = ignore_index
        return s.to(dtype), t.to(dtype), y

    def add(name, seed, N, C, dtype=f32, T=None, alpha=None, ignore_index=None, note="", noncontig=(), **kw):
        if ignore_index is not None:
            kw["ignore_index"] = ignore_index
        case(name, *rand(seed, N, C, dtype, **kw), T=T, alpha=alpha, ignore_index=ignore_index, seed=seed, note=note,
             noncontig=noncontig)

    s = torch.tensor([[2.0, 1.0, 0.1], [0.5, 2.5, 0.0], [1.0, 0.0, -1.0]])
    t = torch.tensor([[3.0, 0.5, 0.0], [0.0, 2.0, 1.0], [0.0, 0.0, 4.0]])
    y = torch.tensor([0, 1, -100])
    case("readable-example", s, t, y, T=2.0, alpha=0.5,
         note="the example of the prompt: 0.5 * 2^2 * KL + 0.5 * CE over the 2 rows whose label is not -100")
    case("readable-defaults", s, t, y, note="only the three tensors: the defaults T=2.0, alpha=0.5, ignore_index=-100")
    case("readable-T-1", s, t, y, T=1.0, alpha=0.5, note="T=1: plain softmaxes, T^2 = 1")
    case("readable-alpha-0", s, t, y, T=2.0, alpha=0.0,
         note="alpha=0: only the hard-label cross-entropy (0 is a real value of alpha, not 'unset')")
    case("readable-alpha-1", s, t, y, T=2.0, alpha=1.0,
         note="alpha=1: only T^2 * KL; the ignored row is still left out")
    add("batch", 1, 8, 10, T=2.0, alpha=0.5, close=True, note="a student close to its teacher")
    add("batch-float64", 2, 6, 7, f64, T=3.0, alpha=0.3, close=True, note="float64 with T=3: compared to ~1e-10")
    add("temperature-4", 3, 8, 5, T=4.0, alpha=0.7, note="T=4: softer targets, the KL is scaled by 16")
    add("temperature-half", 4, 6, 5, T=0.5, alpha=0.5, note="T=0.5 sharpens both distributions; T^2 = 0.25")
    add("alpha-0-float64", 5, 5, 6, f64, T=8.0, alpha=0.0, note="alpha=0 in float64: the teacher does not matter")
    add("alpha-1-padding", 6, 8, 6, T=2.0, alpha=1.0, ignore_frac=0.4,
        note="alpha=1 with ignored rows: the KL is averaged over the non-ignored rows only")
    add("padding", 7, 10, 8, T=2.0, alpha=0.5, ignore_frac=0.3, close=True,
        note="labels of -100 are ignored: those rows count in neither term, both means are over the kept rows")
    add("pad-id-0", 8, 9, 6, f64, T=2.0, alpha=0.4, ignore_index=0, ignore_frac=0.3,
        note="ignore_index=0 (a pad id): rows with label 0 are left out (0 is a real value, not 'unset')")
    add("large-logits", 9, 4, 6, T=2.0, alpha=0.5, scale=1000.0,
        note="logits in the thousands: an unshifted exp overflows, log(softmax) gives -inf and 0 * -inf = NaN")
    add("large-logits-float64", 10, 3, 5, f64, T=4.0, alpha=0.5, scale=1e4,
        note="logits of 1e4 in float64: use log_softmax (or logsumexp), never log(softmax)")
    g = torch.Generator().manual_seed(11)
    tt = torch.randn(5, 4, generator=g)
    yy = torch.randint(0, 4, (5,), generator=g)
    tt[torch.arange(5), yy] += 200.0
    case("confident-teacher", torch.randn(5, 4, generator=g), tt, yy, T=1.0, alpha=0.9, seed=11,
         note="the teacher is one-hot to float precision: p = 0 elsewhere, and p * log p must be 0, not NaN")
    g = torch.Generator().manual_seed(12)
    same = torch.randn(6, 5, generator=g, dtype=f64)
    case("student-equals-teacher", same, same.clone(), torch.randint(0, 5, (6,), generator=g), T=2.0, alpha=0.6,
         seed=12, note="student == teacher: the KL term is exactly 0, only (1 - alpha) * CE remains")
    add("one-class", 13, 4, 1, T=2.0, alpha=0.5, note="C = 1: both softmaxes are 1, the loss is 0")
    add("one-row", 14, 1, 6, T=2.0, alpha=0.5, note="N=1: the batch mean is the single row")
    add("one-row-counts", 15, 6, 5, T=2.0, alpha=0.5, ignore_frac=0.999,
        note="every row but the first is ignored: both means are over 1 row")
    add("vocab-1000", 16, 4, 1000, T=2.0, alpha=0.5, scale=3.0, close=True,
        note="C=1000: the KL is summed over the classes, not averaged")
    add("noncontiguous", 17, 5, 7, T=2.0, alpha=0.5, ignore_frac=0.2,
        noncontig=("student_logits", "teacher_logits", "labels"), note="non-contiguous input views")
    add("edges-high-T", 18, 6, 8, T=8.0, alpha=1.0, scale=500.0,
        note="T=8, alpha=1 and large logits at once")
    add("edges-low-T", 19, 6, 8, f64, T=0.5, alpha=1.0, scale=300.0, ignore_frac=0.3,
        note="T=0.5, alpha=1, large logits and ignored rows at once")
    return out
