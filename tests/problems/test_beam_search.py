"""beam-search: the reference agrees with an independent pure-Python search (math.exp /
math.log, no torch) on every stored case, correct variants pass, realistic bugs fail."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from drillcli.graders.beam_search import run
from drillcli.graders.greedy_decode import Model
from drillcli.harness import build_inputs
from tests.support import graders_check, assert_rejected, assert_within_half_tolerance, describe, mutate, reference, stored_cases

PROBLEM = "beam-search"

CORRECT = {
    "python-tuples": """
        import math, torch
        def beam_search(step, prompt, num_beams, max_new_tokens, eos_id, alpha):
            live = [([], 0.0)]
            done = []
            base = prompt.tolist()
            for t in range(1, max_new_tokens + 1):
                logits = step(torch.tensor([base + h for h, _ in live])).double()
                logp = torch.log_softmax(logits, dim=-1).tolist()
                V = len(logp[0])
                cands = sorted(((s + logp[b][v], b * V + v) for b, (_, s) in enumerate(live) for v in range(V)),
                               key=lambda c: (-c[0], c[1]))
                nxt = []
                for sc, i in cands:
                    b, v = divmod(i, V)
                    if v == eos_id:
                        done.append((live[b][0] + [v], sc / t ** alpha))
                    else:
                        nxt.append((live[b][0] + [v], sc))
                        if len(nxt) == num_beams:
                            break
                live = nxt
                if len(done) >= num_beams:
                    kth = sorted((s for _, s in done), reverse=True)[num_beams - 1]
                    if kth >= max(s for _, s in live) / max_new_tokens ** alpha:
                        return sorted(done, key=lambda h: -h[1])[:num_beams]
            done += [(h, s / max_new_tokens ** alpha) for h, s in live]
            return sorted(done, key=lambda h: -h[1])[:num_beams]
    """,
    "per-beam-top-k-plus-one-then-merge": """
        import torch
        def beam_search(step, prompt, num_beams, max_new_tokens, eos_id, alpha):
            seqs = prompt.view(1, -1)
            sc = torch.zeros(1, dtype=torch.float64)
            fin = []
            T0 = prompt.numel()
            for t in range(1, max_new_tokens + 1):
                lp = step(seqs).double().log_softmax(-1)
                V = lp.shape[-1]
                k = min(num_beams + 1, V)      # at most one EOS per beam: k+1 per beam contain its k best non-EOS
                # per-beam best candidates, ties by token id (stable sort)
                srt = torch.sort(lp, dim=-1, descending=True, stable=True)
                vals, toks = srt.values[:, :k], srt.indices[:, :k]
                tot = sc[:, None] + vals
                flat_idx = (torch.arange(len(seqs))[:, None] * V + toks).flatten()
                tot = tot.flatten()
                # order: score desc, then flat index asc
                order = sorted(range(len(tot)), key=lambda j: (-tot[j].item(), flat_idx[j].item()))
                rows, new_t, new_s = [], [], []
                for j in order:
                    b, v = divmod(int(flat_idx[j]), V)
                    if v == eos_id:
                        fin.append((seqs[b, T0:].tolist() + [v], tot[j].item() / t ** alpha))
                        continue
                    rows.append(b); new_t.append(v); new_s.append(tot[j].item())
                    if len(rows) == num_beams:
                        break
                seqs = torch.cat([seqs[rows], torch.tensor(new_t)[:, None]], 1)
                sc = torch.tensor(new_s, dtype=torch.float64)
                if len(fin) >= num_beams:
                    best = sorted([s for _, s in fin], reverse=True)
                    if best[num_beams - 1] >= sc.max().item() / max_new_tokens ** alpha:
                        break
                if t == max_new_tokens:
                    fin.extend((seqs[b, T0:].tolist(), sc[b].item() / max_new_tokens ** alpha) for b in range(len(seqs)))
            fin.sort(key=lambda h: -h[1])
            return fin[:num_beams]
    """,
    "numpy-stable-argsort-manual-logsumexp": """
        import numpy as np, torch
        def beam_search(step, prompt, num_beams, max_new_tokens, eos_id, alpha):
            beams = [prompt.numpy().astype(np.int64)]
            scores = np.zeros(1)
            finished = []
            T0 = len(beams[0])
            stopped = False
            for t in range(1, max_new_tokens + 1):
                z = step(torch.from_numpy(np.stack(beams))).numpy().astype(np.float64)
                m = z.max(axis=1, keepdims=True)
                logp = z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))
                V = z.shape[1]
                cand = (scores[:, None] + logp).ravel()
                order = np.argsort(-cand, kind="stable")
                nb, ns = [], []
                for i in order:
                    b, v = divmod(int(i), V)
                    if v == eos_id:
                        finished.append((list(beams[b][T0:]) + [v], cand[i] / t ** alpha))
                    else:
                        nb.append(np.append(beams[b], v)); ns.append(cand[i])
                    if len(nb) == num_beams:
                        break
                beams, scores = nb, np.array(ns)
                if len(finished) >= num_beams:
                    kth = np.sort([s for _, s in finished])[::-1][num_beams - 1]
                    if kth >= scores.max() / max_new_tokens ** alpha:
                        stopped = True
                        break
            if not stopped:
                finished += [(list(b[T0:]), s / max_new_tokens ** alpha) for b, s in zip(beams, scores)]
            order = sorted(range(len(finished)), key=lambda j: (-finished[j][1], j))
            return [([int(x) for x in finished[j][0]], float(finished[j][1])) for j in order[:num_beams]]
    """,
}

_REF = open(__import__("drillcli.solutions.beam_search", fromlist=["x"]).__file__).read()


def _mutate(*pairs):
    return mutate(_REF, *pairs)


BUGS = {
    "no-length-penalty": _mutate(("cand[i].item() / t ** alpha", "cand[i].item()"),
                                 ("scores[b].item() / max_new_tokens ** alpha", "scores[b].item()")),
    "length-counts-the-prompt": _mutate(("cand[i].item() / t ** alpha", "cand[i].item() / (t0 + t) ** alpha"),
                                        ("scores[b].item() / max_new_tokens ** alpha",
                                         "scores[b].item() / (t0 + max_new_tokens) ** alpha")),
    "finished-hypotheses-lost": _mutate(
        ("finished.append((beams[b, t0:].tolist() + [eos_id], cand[i].item() / t ** alpha))", "pass")),
    "beam-shrinks-when-eos-in-top-k": _mutate(
        ("rows, toks = [], []", "rows, toks, n_eos = [], [], 0"),
        ("finished.append((beams[b, t0:].tolist() + [eos_id], cand[i].item() / t ** alpha))",
         "finished.append((beams[b, t0:].tolist() + [eos_id], cand[i].item() / t ** alpha)); n_eos += 1"),
        ("            if len(rows) == num_beams:\n                break",
         "            if len(rows) + n_eos == num_beams:\n                break"),
        ("        new = torch.tensor(toks, dtype=torch.long)",
         "        if not rows:\n            break\n        new = torch.tensor(toks, dtype=torch.long)")),
    "stops-once-k-finished": _mutate(("            if kth >= scores.max().item() / max_new_tokens ** alpha:",
                                      "            if True:")),
    "never-stops-early": _mutate(("        if len(finished) >= num_beams:", "        if False:")),
    "ranks-by-raw-score": _mutate(("cand[i].item() / t ** alpha))", "cand[i].item() / t ** alpha, cand[i].item()))"),
                                  ("finished += [(beams[b, t0:].tolist(), scores[b].item() / max_new_tokens ** alpha)",
                                   "finished += [(beams[b, t0:].tolist(), scores[b].item() / max_new_tokens ** alpha, scores[b].item())"),
                                  ("kth = sorted((s for _, s in finished), reverse=True)",
                                   "kth = sorted((s for _, s, _ in finished), reverse=True)"),
                                  ("return sorted(finished, key=lambda h: -h[1])[:num_beams]",
                                   "return [h[:2] for h in sorted(finished, key=lambda h: -h[2])[:num_beams]]")),
    "log-softmax-in-float32": _mutate(("torch.log_softmax(step(beams).double(), dim=-1)",
                                       "torch.log_softmax(step(beams), dim=-1).double()")),
    "sums-logits-not-log-probs": _mutate(("torch.log_softmax(step(beams).double(), dim=-1)", "step(beams).double()")),
    "topk-tie-order-reversed": _mutate(("order = torch.sort(cand, descending=True, stable=True).indices",
                                        "order = (len(cand) - 1 - torch.sort(cand.flip(0), descending=True, stable=True).indices)")),
}


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass(grade_source, name):
    assert_within_half_tolerance(grade_source(PROBLEM, CORRECT[name]))


@pytest.mark.parametrize("name", BUGS)
def test_bugs_fail(grade_source, name):
    verdict = grade_source(PROBLEM, BUGS[name])
    assert verdict.status == "failed", describe(verdict)
    assert_rejected(verdict)


def test_a_wrong_number_of_step_calls_is_named():
    case = next(c for c in stored_cases(PROBLEM) if c.name == "readable-alpha-0")
    assert graders_check(PROBLEM, case, {**case.outputs, "steps": case.outputs["steps"] + 1}).startswith("step called 4 times, expected 3")
    assert graders_check(PROBLEM, case, dict(case.outputs)) is None


def _independent(case):
    """The prompt's algorithm in plain Python floats: no torch in the search itself."""
    args, _, _ = build_inputs(case)
    prompt, k, max_new, eos, alpha = args
    model = Model(case)
    live, finished, steps = [([], 0.0)], [], 0
    for t in range(1, max_new + 1):
        logits = model(torch.tensor([prompt.tolist() + h for h, _ in live])).tolist()
        steps += 1
        cands = []
        for b, ((hyp, score), row) in enumerate(zip(live, logits)):
            m = max(row)
            lse = m + math.log(sum(math.exp(x - m) for x in row))
            cands += [(score + (x - lse), b * len(row) + v) for v, x in enumerate(row)]
        cands.sort(key=lambda c: (-c[0], c[1]))
        new = []
        for score, i in cands:
            b, v = divmod(i, len(logits[0]))
            if v == eos:
                finished.append((live[b][0] + [v], score / t ** alpha))
            else:
                new.append((live[b][0] + [v], score))
            if len(new) == k:
                break
        live = new
        if len(finished) >= k and sorted(s for _, s in finished)[::-1][k - 1] >= max(s for _, s in live) / max_new ** alpha:
            break
        if t == max_new:
            finished += [(h, s / max_new ** alpha) for h, s in live]
    best = sorted(finished, key=lambda h: -h[1])[:k]
    return best, steps


def test_reference_matches_independent_search_on_every_case():
    for case in stored_cases(PROBLEM):
        best, steps = _independent(case)
        assert int(case.outputs["steps"]) == steps, case.name
        assert case.outputs["lengths"].tolist() == [len(h) for h, _ in best], case.name
        for row, (hyp, score) in zip(case.outputs["tokens"], best):
            assert row[:len(hyp)].tolist() == hyp and (row[len(hyp):] == -1).all(), case.name
        np.testing.assert_allclose(case.outputs["scores"], [s for _, s in best], rtol=1e-12, atol=1e-12,
                                   err_msg=case.name)
        fresh = run(reference(PROBLEM), "function", case, ["hypotheses"])
        np.testing.assert_array_equal(fresh["tokens"], case.outputs["tokens"], err_msg=case.name)


def test_cases_cover_both_ways_of_stopping():
    cases = stored_cases(PROBLEM)
    early = [c for c in cases if int(c.outputs["steps"]) < c.inputs["max_new_tokens"]]
    full = [c for c in cases if int(c.outputs["steps"]) == c.inputs["max_new_tokens"]]
    unfinished = [c for c in cases if any(
        row[n - 1] != c.inputs["eos_id"] for row, n in zip(c.outputs["tokens"], c.outputs["lengths"]))]
    assert len(early) >= 6 and len(full) >= 6 and len(unfinished) >= 6
