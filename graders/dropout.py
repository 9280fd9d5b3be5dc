"""Cases for inverted dropout. The run hook makes the torch.Generator from the case seed,
calls the entry, records how the generator moved (`draws`) and backpropagates `_upstream`;
`check` explains a wrong mask with its statistics (fraction kept, scale of the kept values)
before comparing exactly."""

import numpy as np

from drillcli.fixtures import Case, make_case

RETURNS = ("out",)
NO_DRAW, ONE_DRAW, OTHER_DRAWS = 0, 1, -1
# the tolerances of the value comparison in `check` (kept values are x / (1 - p), formula-dependent rounding)
TOLERANCE = {"float32": (1e-6, 1e-6), "float64": (1e-14, 1e-13)}



def _not_inverted(x, p, training=True, generator=None):
    """Classic dropout (the original paper's form): survivors unscaled in training, x * (1 - p) at test time."""
    import torch

    if not training:
        return x * (1 - p)
    return x * (torch.rand(x.shape, generator=generator) >= p)


def _keep_probability(x, p, training=True, generator=None):
    """p read as the probability of keeping (TensorFlow 1's keep_prob): keep where rand < p, scale by 1 / p."""
    import torch

    if not training:
        return x
    return x * (torch.rand(x.shape, generator=generator) < p) / p


NEAR_MISSES = {
    "not-inverted": ("your output matches classic (non-inverted) dropout, which leaves the kept entries unscaled in "
                     "training and multiplies by 1 - p at test time; this problem asks for inverted dropout: kept "
                     "entries become x / (1 - p) in training and eval mode returns x (see the prompt)", _not_inverted),
    "keep-probability": ("your output matches p read as the probability of keeping (TensorFlow 1's keep_prob: keep "
                         "where rand < p, scale by 1 / p); here p is the probability of dropping: keep where "
                         "rand >= p and scale by 1 / (1 - p) (see the prompt)", _keep_probability),
}


def run(entry, kind, case, names):
    import torch

    from drillcli.harness import build_inputs, check_inputs_unchanged, gradients, unpack

    args, named, _ = build_inputs(case)
    generator = torch.Generator().manual_seed(case.seed)
    returned = unpack(entry(args[0], args[1], args[2], generator), names)
    check_inputs_unchanged(case, named)
    returned["draws"] = _draws(generator, case.seed, named["x"].shape)
    out = returned["out"]
    if case.grad and args[2] and args[1] == 1 and isinstance(out, torch.Tensor) and not out.requires_grad:
        # p = 1: torch.zeros_like(x) is a right answer with no graph; its gradient is 0
        return {**returned, "grad_x": torch.zeros_like(named["x"])}
    return {**returned, **gradients(case, returned, named)}


def _draws(generator, seed, shape):
    """NO_DRAW if the generator is untouched, ONE_DRAW if it moved exactly as one torch.rand(shape) moves it."""
    import torch

    fresh = torch.Generator().manual_seed(seed)
    if torch.equal(generator.get_state(), fresh.get_state()):
        return NO_DRAW
    torch.rand(shape, generator=fresh)
    return ONE_DRAW if torch.equal(generator.get_state(), fresh.get_state()) else OTHER_DRAWS


def _draw_problem(draws, want, training, p):
    if draws == want or (p == 0 and draws in (NO_DRAW, ONE_DRAW)):   # p = 0 may skip the draw
        return None
    if want == NO_DRAW:
        why = "training=False" if not training else "p = 1"
        return f"your code drew from the generator although {why}: draw nothing (return before torch.rand)"
    if draws == NO_DRAW:
        return "the generator was not used: draw the mask from it, torch.rand(x.shape, generator=generator)"
    return "the generator moved differently from one torch.rand(x.shape, generator=generator) call"


def _mismatch(name, want, have, atol, rtol):
    off = ~np.isclose(have, want, atol=atol, rtol=rtol) | (np.isnan(have) != np.isnan(want))
    if not off.any():
        return None
    i = tuple(int(k) for k in np.argwhere(off)[0])
    return f"{name}: {int(off.sum())} of {off.size} values differ; first at {list(i)}: expected {want[i]:.6g}, got {have[i]:.6g}"


def check(case, got):
    x = np.asarray(case.inputs["x"], dtype=np.float64)
    p, training = float(case.inputs["p"]), bool(case.inputs["training"])
    out, want = got["out"].astype(np.float64), case.outputs["out"].astype(np.float64)
    atol, rtol = TOLERANCE[str(case.outputs["out"].dtype)]
    draw_problem = _draw_problem(int(got["draws"]), int(case.outputs["draws"]), training, p)
    lines = [draw_problem] if draw_problem else []
    nonzero = x != 0
    if training and 0 < p < 1 and nonzero.sum() >= 1000:
        kept = (out != 0) & nonzero
        frac, n = kept.sum() / nonzero.sum(), nonzero.sum()
        sigma = np.sqrt(p * (1 - p) / n)
        if abs(frac - (1 - p)) > 6 * sigma:
            lines.append(f"kept {frac:.1%} of the entries, expected about {1 - p:.1%} (p = {p:g} is the probability "
                         f"of dropping: keep where rand >= p)")
        if kept.any():
            ratio = np.median(out[kept] / x[kept])
            if not np.isclose(ratio, 1 / (1 - p), rtol=1e-3):
                lines.append(f"kept entries are x * {ratio:.4g}, expected x / (1 - p) = x * {1 / (1 - p):.4g} "
                             f"(inverted dropout rescales in training)")
    if not training and not np.allclose(out, x, atol=atol, rtol=rtol):
        lines.append("in eval mode (training=False) dropout must return x unchanged")
    problem = _mismatch("out", want, out, atol, rtol)
    if problem and not lines and training and 0 < p < 1:
        same_zeros = ((out == 0) == (want == 0)) | ~nonzero
        flipped = ((out == 0) != (want == 0)) | ~nonzero
        if flipped.all() and nonzero.any():
            lines.append("your mask is the complement of the rule's: p is the probability of dropping, "
                         "keep where torch.rand(x.shape, generator=generator) >= p")
        elif not same_zeros.all():
            lines.append(f"the mask differs from the stated rule at {int((~same_zeros).sum())} of {x.size} entries: "
                         f"draw keep = torch.rand(x.shape, generator=generator) >= p, once, in float32")
    if problem:
        lines.append(problem)
    if "grad_x" in case.outputs:
        gproblem = _mismatch("grad_x", case.outputs["grad_x"].astype(np.float64), got["grad_x"].astype(np.float64),
                             atol, rtol)
        if gproblem:
            lines.append(gproblem)
    return "\n".join(lines) or None


def cases() -> list[Case]:
    import torch

    out: list[Case] = []

    def case(name, x, p, training=True, seed=0, note="", noncontig=(), grad=True, upstream=None):
        inputs = {"x": x, "p": p, "training": training}
        if grad:
            g = torch.Generator().manual_seed(10_000 + seed)
            inputs["_upstream"] = (torch.randn(x.shape, generator=g, dtype=torch.float64).to(x.dtype)
                                   if upstream is None else upstream)
        out.append(make_case(name, inputs, seed=seed, dtype=str(x.dtype).removeprefix("torch."), note=note,
                             noncontig=tuple(noncontig), grad=("x",) if grad else ()))

    def add(name, seed, dtype, shape, p, training=True, note="", noncontig=(), grad=True):
        g = torch.Generator().manual_seed(1000 + seed)
        x = torch.randn(shape, generator=g, dtype=torch.float64).to(dtype)
        case(name, x, p, training, seed, note, noncontig, grad)

    f32, f64 = torch.float32, torch.float64
    readable = torch.tensor([[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]])
    case("readable-p0.5", readable, 0.5, seed=0, upstream=torch.ones(2, 4),
         note="the example of the prompt: seed 0, keep = rand >= 0.5, kept values doubled")
    case("readable-eval", readable, 0.5, training=False, seed=0, upstream=torch.ones(2, 4),
         note="training=False: x unchanged, nothing drawn")
    add("p0.1", 1, f32, (4, 8), 0.1)
    add("p0.9", 2, f32, (4, 8), 0.9, note="p is the probability of DROPPING: only ~10% survive, scaled by 10")
    add("p0-identity", 3, f32, (3, 5), 0.0, note="p = 0 in training: every entry kept, scale 1")
    add("p0-float64", 24, f64, (2, 3, 4), 0.0,
        note="p = 0 in float64: every entry kept, scale 1 (0.0 is a value: nothing is dropped)")
    add("p1-all-dropped", 4, f32, (3, 5), 1.0, note="p = 1: every entry dropped, zeros (not 0/0 = NaN), nothing drawn")
    add("p1-float64", 19, f64, (2, 6), 1.0, note="p = 1 in float64: zeros, nothing drawn")
    add("eval-mode", 5, f32, (2, 3, 4), 0.3, training=False, note="eval mode ignores p: identity")
    add("eval-mode-float64", 6, f64, (5, 5), 0.7, training=False)
    add("float64", 7, f64, (4, 6), 0.25, note="float64 x: the mask is still drawn with torch.rand's default float32")
    add("float64-batch", 8, f64, (2, 3, 4, 5), 0.5)
    add("batch-heads", 9, f32, (2, 4, 5, 6), 0.2, note="attention-probability shaped input")
    add("vector", 10, f32, (17,), 0.3)
    add("scalar", 11, f32, (), 0.4, note="a 0-dim tensor")
    add("empty", 12, f32, (0, 4), 0.5, note="no entries: an empty result, and rand(x.shape) draws nothing")
    add("noncontiguous", 13, f32, (4, 6), 0.3, noncontig=("x",),
        note="x is a non-contiguous view: the mask follows x.shape in row-major order")
    add("noncontiguous-float64", 14, f64, (3, 7), 0.6, noncontig=("x",))
    add("small-p", 15, f32, (8, 8), 0.01)
    add("p-one-third", 16, f64, (6, 6), 1 / 3, note="p = 1/3: the scale 1.5 is not a power of two")
    case("stats-ones-p0.3", torch.ones(200, 500), 0.3, seed=17, grad=False,
         note="100 000 ones: about 70% become 1/0.7, the rest 0")
    case("stats-ones-p0.8-float64", torch.ones(100, 400, dtype=f64), 0.8, seed=18, grad=False,
         note="40 000 ones: about 20% survive, scaled by 5")
    for i, (shape, p) in enumerate([((3, 9), 0.45), ((5, 2, 3), 0.15), ((1, 31), 0.75)]):
        add(f"random-{i}", 20 + i, f32 if i % 2 == 0 else f64, shape, p)
    return out
