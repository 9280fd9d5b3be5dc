"""viterbi: the reference agrees with brute-force enumeration of all paths (small cases) and
with an independent numpy DP (all cases); correct variants pass, realistic bugs fail."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from drillcli.harness import build_inputs
from tests.support import assert_rejected, assert_within_half_tolerance, describe, reference, stored_cases

PROBLEM = "viterbi"

CORRECT = {
    "python-loops-per-tag": """
        import torch
        def viterbi(emissions, transitions, start=None, end=None):
            *lead, T, K = emissions.shape
            flat = emissions.reshape(-1, T, K)
            paths, scores = [], []
            for e in flat:
                s = [(0.0 if start is None else start[k]) + e[0, k] for k in range(K)]
                bps = []
                for t in range(1, T):
                    new, bp = [], []
                    for j in range(K):
                        best_i = max(range(K), key=lambda i: s[i] + transitions[i, j])   # first max wins
                        bp.append(best_i)
                        new.append(s[best_i] + transitions[best_i, j] + e[t, j])
                    s, bps = new, bps + [bp]
                final = [s[k] + (0.0 if end is None else end[k]) for k in range(K)]
                last = max(range(K), key=lambda k: final[k])
                path = [last]
                for bp in reversed(bps):
                    path.append(bp[path[-1]])
                paths.append(path[::-1])
                scores.append(final[last])
            path = torch.tensor(paths, dtype=torch.int64).reshape(*lead, T)
            return path, torch.stack([torch.as_tensor(x, dtype=emissions.dtype) for x in scores]).reshape(lead)
    """,
    "numpy-backtrack-argmax": """
        import numpy as np, torch
        def viterbi(emissions, transitions, start=None, end=None):
            e = emissions.detach().cpu().numpy()
            tr = transitions.numpy()
            K = e.shape[-1]
            st = np.zeros(K, e.dtype) if start is None else start.numpy()
            en = np.zeros(K, e.dtype) if end is None else end.numpy()
            delta = st + e[..., 0, :]
            psi = np.zeros(e.shape, dtype=np.int64)
            for t in range(1, e.shape[-2]):
                cand = delta[..., :, None] + tr
                psi[..., t, :] = cand.argmax(axis=-2)
                delta = cand.max(axis=-2) + e[..., t, :]
            final = delta + en
            path = np.zeros(e.shape[:-1], dtype=np.int64)
            path[..., -1] = final.argmax(-1)
            for t in range(e.shape[-2] - 1, 0, -1):
                path[..., t - 1] = np.take_along_axis(psi[..., t, :], path[..., t:t + 1], axis=-1)[..., 0]
            return torch.from_numpy(path), torch.from_numpy(np.asarray(final.max(-1), dtype=e.dtype))
    """,
    "float64-accumulate-einsum-free-broadcast": """
        import torch
        def viterbi(emissions, transitions, start=None, end=None):
            dt = emissions.dtype
            e, tr = emissions.double(), transitions.double()
            K = e.shape[-1]
            st = torch.zeros(K, dtype=torch.float64) if start is None else start.double()
            en = torch.zeros(K, dtype=torch.float64) if end is None else end.double()
            alpha = e[..., 0, :] + st
            bps = torch.empty(e.shape, dtype=torch.long)
            for t in range(1, e.shape[-2]):
                # emissions added before the max: equal, since they do not depend on the previous tag
                cand = alpha[..., :, None] + tr + e[..., t, None, :]
                alpha, bps[..., t, :] = torch.max(cand, dim=-2)
            score, last = torch.max(alpha + en, dim=-1)
            out = [last]
            for t in range(e.shape[-2] - 1, 0, -1):
                last = torch.gather(bps[..., t, :], -1, last[..., None])[..., 0]
                out.insert(0, last)
            return torch.stack(out, -1), score.to(dt)
    """,
}

TEMPLATE = """
import torch
def viterbi(emissions, transitions, start=None, end=None):
    K = emissions.shape[-1]
    start = emissions.new_zeros(K) if start is None else start
    end = emissions.new_zeros(K) if end is None else end
    score = START_LINE
    bps = []
    for t in range(1, emissions.shape[-2]):
        cand = CAND_LINE
        score, prev = cand.max(dim=-2)
        score = score + emissions[..., t, :]
        bps.append(prev)
    best, last = (FINAL_LINE).max(dim=-1)
    path = [last]
    for prev in reversed(bps):
        last = prev.gather(-1, last.unsqueeze(-1)).squeeze(-1)
        path.append(last)
    return torch.stack(path[::-1], dim=-1), best
"""


def variant(start="start + emissions[..., 0, :]", cand="score.unsqueeze(-1) + transitions", final="score + end"):
    return TEMPLATE.replace("START_LINE", start).replace("CAND_LINE", cand).replace("FINAL_LINE", final)


BUGS = {
    "greedy-per-position-argmax": """
        import torch
        def viterbi(emissions, transitions, start=None, end=None):
            path = emissions.argmax(-1)
            K = emissions.shape[-1]
            st = emissions.new_zeros(K) if start is None else start
            en = emissions.new_zeros(K) if end is None else end
            s = emissions.gather(-1, path.unsqueeze(-1)).squeeze(-1).sum(-1)
            s = s + st[path[..., 0]] + en[path[..., -1]] + transitions[path[..., :-1], path[..., 1:]].sum(-1)
            return path, s
    """,
    "transitions-transposed": variant(cand="score.unsqueeze(-1) + transitions.T"),
    "forgets-start": variant(start="emissions[..., 0, :]"),
    "forgets-end": variant(final="score"),
    "adds-start-into-the-callers-emissions": variant(start="emissions[..., 0, :].add_(start)"),
    "ties-to-largest-index": """
        import torch
        def viterbi(emissions, transitions, start=None, end=None):
            K = emissions.shape[-1]
            start = emissions.new_zeros(K) if start is None else start
            end = emissions.new_zeros(K) if end is None else end
            score = start + emissions[..., 0, :]
            bps = []
            for t in range(1, emissions.shape[-2]):
                cand = score.unsqueeze(-1) + transitions
                flipped = cand.flip(-2)                       # argmax of the flipped axis = last maximum
                score, prev = flipped.max(dim=-2)
                bps.append(K - 1 - prev)
                score = score + emissions[..., t, :]
            best, last = (score + end).flip(-1).max(dim=-1)
            last = K - 1 - last
            path = [last]
            for prev in reversed(bps):
                last = prev.gather(-1, last.unsqueeze(-1)).squeeze(-1)
                path.append(last)
            return torch.stack(path[::-1], dim=-1), best
    """,
    "backtrack-off-by-one": """
        import torch
        def viterbi(emissions, transitions, start=None, end=None):
            K, T = emissions.shape[-1], emissions.shape[-2]
            start = emissions.new_zeros(K) if start is None else start
            end = emissions.new_zeros(K) if end is None else end
            score = start + emissions[..., 0, :]
            psi = torch.zeros(emissions.shape, dtype=torch.long)      # psi[t]: back-pointers into t-1
            for t in range(1, T):
                score, psi[..., t, :] = (score.unsqueeze(-1) + transitions).max(dim=-2)
                score = score + emissions[..., t, :]
            best, last = (score + end).max(dim=-1)
            path = torch.zeros(emissions.shape[:-1], dtype=torch.long)
            path[..., T - 1] = last
            for t in range(T - 1, 0, -1):
                path[..., t - 1] = psi[..., t - 1, :].gather(-1, path[..., t:t + 1]).squeeze(-1)   # should be psi[t]
            return path, best
    """,
    "multiplies-probabilities": """
        import torch
        def viterbi(emissions, transitions, start=None, end=None):
            K = emissions.shape[-1]
            e, tr = emissions.exp(), transitions.exp()
            st = torch.ones(K, dtype=e.dtype) if start is None else start.exp()
            en = torch.ones(K, dtype=e.dtype) if end is None else end.exp()
            p = st * e[..., 0, :]
            bps = []
            for t in range(1, e.shape[-2]):
                p, prev = (p.unsqueeze(-1) * tr).max(dim=-2)
                p = p * e[..., t, :]
                bps.append(prev)
            best, last = (p * en).max(dim=-1)
            path = [last]
            for prev in reversed(bps):
                last = prev.gather(-1, last.unsqueeze(-1)).squeeze(-1)
                path.append(last)
            return torch.stack(path[::-1], dim=-1), best.log()
    """,
    "logsumexp-instead-of-max-score": variant(final="score + end") .replace(
        "return torch.stack(path[::-1], dim=-1), best",
        "return torch.stack(path[::-1], dim=-1), torch.logsumexp(score + end, dim=-1)"),
}


EXPECTED_STATUS = {"adds-start-into-the-callers-emissions": "modified_input"}


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass(grade_source, name):
    assert_within_half_tolerance(grade_source(PROBLEM, CORRECT[name]))


@pytest.mark.parametrize("name", BUGS)
def test_bugs_fail(grade_source, name):
    verdict = grade_source(PROBLEM, BUGS[name])
    assert verdict.status == EXPECTED_STATUS.get(name, "failed"), describe(verdict)
    assert_rejected(verdict)


def test_template_is_correct(grade_source):
    verdict = grade_source(PROBLEM, variant())
    assert verdict.ok, describe(verdict)


def _path_score(e, tr, st, en, path):
    s = st[path[0]] + e[0, path[0]] + en[path[-1]]
    for t in range(1, len(path)):
        s += tr[path[t - 1], path[t]] + e[t, path[t]]
    return s


def _numpy_viterbi(e, tr, st, en):
    """Independent DP in float64 with the stated tie rule (first maximum)."""
    T, K = e.shape
    delta, psi = st + e[0], np.zeros((T, K), dtype=np.int64)
    for t in range(1, T):
        cand = delta[:, None] + tr
        psi[t] = np.argmax(cand, axis=0)
        delta = cand.max(axis=0) + e[t]
    path = [int(np.argmax(delta + en))]
    for t in range(T - 1, 0, -1):
        path.append(int(psi[t, path[-1]]))
    return path[::-1], float((delta + en).max())


def test_reference_matches_brute_force_and_numpy_dp_on_every_case():
    for case in stored_cases(PROBLEM):
        args, _, _ = build_inputs(case)
        path, score = reference(PROBLEM)(*args)
        e_all, tr = args[0].double().numpy(), args[1].double().numpy()
        K = e_all.shape[-1]
        st = np.zeros(K) if args[2] is None else args[2].double().numpy()
        en = np.zeros(K) if args[3] is None else args[3].double().numpy()
        paths, scores = path.reshape(-1, e_all.shape[-2]).numpy(), score.reshape(-1).double().numpy()
        for b, e in enumerate(e_all.reshape(-1, *e_all.shape[-2:])):
            want_path, want_score = _numpy_viterbi(e, tr, st, en)
            assert paths[b].tolist() == want_path, case.name
            np.testing.assert_allclose(scores[b], want_score, rtol=1e-6, err_msg=case.name)
            T = e.shape[0]
            if K ** T <= 50_000:                      # enumerate every path
                best = max(_path_score(e, tr, st, en, p) for p in itertools.product(range(K), repeat=T))
                np.testing.assert_allclose(scores[b], best, rtol=1e-6, err_msg=case.name)
                assert _path_score(e, tr, st, en, paths[b]) == best or np.isclose(
                    _path_score(e, tr, st, en, paths[b]), best, rtol=1e-12), case.name
        np.testing.assert_array_equal(case.outputs["path"], path.numpy(), err_msg=case.name)
