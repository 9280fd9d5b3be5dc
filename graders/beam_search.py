"""Cases for beam search. The grader drives the user's `beam_search` with the small
deterministic model of greedy-decode (a decayed sum of table rows over the prefix plus an
EOS bias that grows with the length) and compares every returned hypothesis (tokens and
normalized score), not only the best one, and the number of calls to `step` (which
checks the stopping rule)."""

from drillcli.fixtures import Case, make_case
from drillcli.graders.greedy_decode import Model, wrong_step_count

RETURNS = ("hypotheses",)


def run(entry, kind, case, names):
    import numpy as np
    import torch

    from drillcli.harness import WrongReturn, build_inputs, check_inputs_unchanged

    args, named, _ = build_inputs(case)
    prompt, num_beams, max_new = args[0], args[1], args[2]
    model = Model(case)

    def step(tokens):
        if isinstance(tokens, torch.Tensor) and tokens.dim() == 2 and not 1 <= tokens.shape[0] <= num_beams:
            raise WrongReturn(f"step must get the live beams stacked: 1 to num_beams={num_beams} rows, got {tokens.shape[0]}")
        return model(tokens)

    hyps = entry(step, *args)
    if not isinstance(hyps, (list, tuple)):
        raise WrongReturn(f"beam_search must return a list of (tokens, score) pairs, got {type(hyps).__name__}")
    tokens = np.full((len(hyps), max_new), -1, dtype=np.int64)
    lengths = np.zeros(len(hyps), dtype=np.int64)
    scores = np.zeros(len(hyps), dtype=np.float64)
    for i, h in enumerate(hyps):
        if not isinstance(h, (list, tuple)) or len(h) != 2:
            raise WrongReturn(f"hypothesis {i} must be a (tokens, score) pair, got {type(h).__name__}")
        toks, score = h
        toks = [int(x) for x in (toks.tolist() if isinstance(toks, torch.Tensor) else toks)]
        if len(toks) > max_new:
            raise WrongReturn(f"hypothesis {i} has {len(toks)} tokens, more than max_new_tokens={max_new} "
                              "(return the generated tokens only, without the prompt)")
        tokens[i, :len(toks)] = toks
        lengths[i] = len(toks)
        scores[i] = float(score)
    check_inputs_unchanged(case, named)
    return {"tokens": tokens, "lengths": lengths, "scores": scores, "steps": model.calls}


def check(case, got):
    """Every hypothesis (tokens, lengths, scores), then the number of calls to step."""
    from drillcli.compare import Mismatch, tolerance, values_close

    tol = tolerance(str(case.outputs["scores"].dtype))
    try:
        values_close("tokens", case.outputs["tokens"], got["tokens"], 0.0, 0.0)
        values_close("lengths", case.outputs["lengths"], got["lengths"], 0.0, 0.0)
        values_close("scores", case.outputs["scores"], got["scores"], *tol)
    except Mismatch as m:
        return f"{m.message}\n{m.detail}"
    return wrong_step_count(case, got, "call step once per step t on all live beams, and stop as the early-stop "
                                       "rule says (checked after each step's walk) or at max_new_tokens")


def _case(name, prompt, table, num_beams, max_new, eos_id, alpha, decay=0.5, eos_ramp=0.0, dtype="float64",
          seed=None, note="", noncontig=()):
    import torch

    return make_case(name, {
        "prompt": prompt, "num_beams": num_beams, "max_new_tokens": max_new, "eos_id": eos_id, "alpha": alpha,
        "_table": table.to(torch.float64), "_model": {"decay": decay, "eos": eos_id, "eos_ramp": eos_ramp},
    }, seed=seed, dtype=dtype, note=note, noncontig=tuple(noncontig))


def cases() -> list[Case]:
    import torch

    out: list[Case] = []

    def rand(name, seed, v, t0, beams, max_new, alpha, eos_ramp=0.2, decay=0.6, scale=1.5, dtype="float64",
             note="", noncontig=(), eos=0):
        g = torch.Generator().manual_seed(seed)
        table = torch.randn(v, v, generator=g, dtype=torch.float64) * scale
        prompt = torch.randint(0, v, (t0,), generator=g)
        out.append(_case(name, prompt, table, beams, max_new, eos, alpha, decay, eos_ramp * scale, dtype, seed,
                         note, noncontig))

    # readable: logits depend on the last token only (decay 0), EOS = 0
    t = torch.tensor([[0.0, 0.0, 0.0, 0.0, 0.0],
                      [1.0, 0.0, 2.0, 2.5, 0.0],
                      [2.0, 0.0, 0.0, 1.0, 1.0],
                      [0.5, 0.0, 1.0, 0.0, 2.0],
                      [3.0, 0.0, 0.0, 1.0, 0.0]])
    out.append(_case("readable-alpha-1", torch.tensor([1]), t, 2, 4, 0, 1.0, decay=0.0,
                     note="the example of the prompt: 4 steps, the early stop comes after step 4's check"))
    out.append(_case("readable-alpha-0", torch.tensor([1]), t, 2, 4, 0, 0.0, decay=0.0,
                     note="alpha = 0: after step 3 the 2nd best finished score (-1.886) beats the best live (-3.562): stop"))
    out.append(_case("readable-one-beam", torch.tensor([1]), t, 1, 4, 0, 0.5, decay=0.0,
                     note="num_beams = 1 is not greedy: an EOS candidate is set aside and the best non-EOS continues"))
    out.append(_case("readable-budget-1", torch.tensor([4, 2]), t, 2, 1, 0, 1.0, decay=0.0,
                     note="max_new_tokens = 1: the live beams are returned unfinished after one step"))
    tie = torch.tensor([[0.0, 0.0, 0.0, 0.0, 0.0],
                        [0.0, 0.0, 2.0, 2.0, 1.0],
                        [1.0, 0.0, 0.0, 1.0, 1.0],
                        [1.0, 0.0, 1.0, 0.0, 1.0],
                        [0.0, 1.0, 1.0, 1.0, 0.0]])
    out.append(_case("readable-ties", torch.tensor([1]), tie, 2, 3, 0, 0.0, decay=0.0,
                     note="exact ties everywhere: candidates are ordered by score, then beam index, then token id"))
    rand("beams-3", 1, 8, 2, 3, 6, 0.6)
    rand("beams-5", 2, 12, 3, 5, 8, 1.0)
    rand("alpha-0", 3, 10, 2, 4, 8, 0.0)
    rand("alpha-2", 4, 10, 2, 4, 8, 2.0, note="a strong length penalty favours long hypotheses")
    rand("never-ends", 5, 9, 2, 3, 6, 0.8, eos_ramp=-3.0, note="EOS is very unlikely: the live beams are returned at the budget")
    rand("ends-early", 6, 9, 2, 3, 10, 0.7, eos_ramp=1.2, note="EOS becomes likely fast: the early stop rule decides")
    rand("float32-logits", 7, 10, 3, 3, 7, 0.6, dtype="float32", note="step returns float32: convert to float64 first")
    rand("float32-beams-4", 8, 16, 2, 4, 8, 1.0, dtype="float32")
    rand("vocab-40", 9, 40, 4, 4, 10, 0.7, eos_ramp=0.15)
    rand("prompt-length-1", 10, 8, 1, 3, 6, 1.0)
    rand("long-prompt", 11, 10, 12, 3, 6, 1.0, decay=0.9, note="logits depend on the whole prefix (decay 0.9)")
    rand("one-beam", 12, 10, 2, 1, 8, 1.0)
    rand("budget-1", 13, 8, 3, 3, 1, 1.0, note="max_new_tokens = 1")
    rand("large-logits", 14, 10, 2, 3, 6, 0.8, scale=300.0,
         note="logits in the hundreds: the log-softmax must subtract the max (log-probs reach -1000s)")
    rand("peaked", 15, 10, 2, 3, 8, 1.0, scale=6.0, note="near-deterministic model: log-probs near 0 and very negative")
    rand("eos-not-zero", 16, 9, 2, 3, 8, 1.0, eos=5, note="eos_id = 5")
    rand("noncontiguous-prompt", 17, 9, 4, 3, 7, 0.6, noncontig=("prompt",), note="prompt is a non-contiguous view")
    for i, (v, t0, nb, mx, a) in enumerate([(7, 2, 2, 9, 0.3), (20, 3, 6, 8, 1.5), (6, 1, 4, 12, 1.0)]):
        rand(f"random-{i}", 20 + i, v, t0, nb, mx, a, dtype="float64" if i % 2 == 0 else "float32")
    g = torch.Generator().manual_seed(30)
    table = torch.randint(-2, 3, (7, 7), generator=g).to(torch.float64)
    out.append(_case("integer-ties", torch.tensor([3, 1]), table, 3, 6, 0, 0.0, decay=1.0, eos_ramp=0.5, seed=30,
                     note="integer logits summed over the prefix: frequent exact ties between candidates"))
    return out
