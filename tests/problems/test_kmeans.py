"""kmeans: the reference agrees with scikit-learn's KMeans (lloyd, given init, n_init=1) on
every case without an empty cluster, and with a numpy replica on every case; k-means++
agrees with a numpy replica drawing from the same generator. Correct variants pass,
realistic bugs fail."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
import torch
from sklearn.cluster import KMeans

from drillcli.harness import build_inputs
from tests.support import assert_rejected, assert_within_half_tolerance, describe, reference, stored_cases

PROBLEM = "kmeans"

PP_OK = """
def kmeans_plus_plus(x, k, generator):
    idx = [torch.randint(x.shape[0], (1,), generator=generator).item()]
    d2 = ((x - x[idx[0]]) ** 2).sum(-1)
    for _ in range(1, k):
        i = torch.multinomial(d2, 1, generator=generator).item()
        idx.append(i)
        d2 = torch.minimum(d2, ((x - x[i]) ** 2).sum(-1))
    return x[idx]
"""

LLOYD_OK = """
import torch
def kmeans(x, init_centroids, max_iters=100, tol=1e-4):
    c = init_centroids.clone()
    for _ in range(max_iters):
        labels = torch.cdist(x, c).argmin(1)
        new_c = c.clone()
        for k in range(c.shape[0]):
            members = x[labels == k]
            if len(members):
                new_c[k] = members.mean(0)
        shift = ((new_c - c) ** 2).sum()
        c = new_c
        if shift <= tol:
            break
    return c, torch.cdist(x, c).argmin(1)
"""

CORRECT = {
    "cdist-loop-over-clusters": LLOYD_OK + PP_OK,
    "expanded-distances-one-hot-matmul": """
        import torch
        def _labels(x, c):
            d2 = (x * x).sum(1, keepdim=True) - 2 * x @ c.T + (c * c).sum(1)    # ||x||² - 2x·c + ||c||²
            return d2.argmin(1)
        def kmeans(x, init_centroids, max_iters=100, tol=1e-4):
            c = init_centroids
            K = c.shape[0]
            for _ in range(max_iters):
                onehot = torch.nn.functional.one_hot(_labels(x, c), K).to(x.dtype)   # (N, K)
                counts = onehot.sum(0)
                new_c = torch.where(counts[:, None] > 0, onehot.T @ x / counts.clamp(min=1)[:, None], c)
                done = ((new_c - c) ** 2).sum() <= tol
                c = new_c
                if done:
                    break
            return c, _labels(x, c)
        def kmeans_plus_plus(x, k, generator):
            n = x.shape[0]
            chosen = [int(torch.randint(n, (1,), generator=generator))]
            for _ in range(k - 1):
                d2 = torch.cdist(x.double(), x[chosen].double()).pow(2).min(1).values   # recomputed each time
                chosen.append(int(torch.multinomial(d2 / d2.sum(), 1, generator=generator)))
            return x[torch.tensor(chosen)].clone()
    """,
    "numpy-float64": textwrap.dedent("""
        import numpy as np, torch
        def kmeans(x, init_centroids, max_iters=100, tol=1e-4):
            X, c = x.double().numpy(), init_centroids.double().numpy().copy()
            def assign(c):
                return np.argmin(((X[:, None, :] - c[None]) ** 2).sum(-1), axis=1)
            for _ in range(max_iters):
                lab = assign(c)
                new_c = c.copy()
                for k in range(len(c)):
                    if (lab == k).any():
                        new_c[k] = X[lab == k].mean(0)
                shift = ((new_c - c) ** 2).sum()
                c = new_c
                if shift <= tol:
                    break
            return torch.from_numpy(c).to(x.dtype), torch.from_numpy(assign(c)).long()
    """) + PP_OK,
}


def lloyd_bug(old, new):
    src = LLOYD_OK.replace(old, new)
    assert src != LLOYD_OK, old
    return src + PP_OK


BUGS = {
    "empty-cluster-nan": LLOYD_OK.replace("""        new_c = c.clone()
        for k in range(c.shape[0]):
            members = x[labels == k]
            if len(members):
                new_c[k] = members.mean(0)""", """        new_c = torch.stack([x[labels == k].mean(0) for k in range(c.shape[0])])""") + PP_OK,
    "shift-as-norm": lloyd_bug("shift = ((new_c - c) ** 2).sum()", "shift = torch.linalg.norm(new_c - c)"),
    "shift-max-over-centroids": lloyd_bug("shift = ((new_c - c) ** 2).sum()", "shift = ((new_c - c) ** 2).sum(1).max()"),
    "stale-labels": lloyd_bug("    return c, torch.cdist(x, c).argmin(1)", "    return c, labels"),
    "one-iteration-too-many": lloyd_bug("for _ in range(max_iters):", "for _ in range(max_iters + 1):"),
    # tol = 0 means "until nothing moves", not "use the default 1e-4"
    "zero-tol-taken-as-default": lloyd_bug("c = init_centroids.clone()", "c = init_centroids.clone()\n    tol = tol or 1e-4"),
    "ties-to-largest-index": lloyd_bug("labels = torch.cdist(x, c).argmin(1)",
                                       "labels = c.shape[0] - 1 - torch.cdist(x, c).flip(1).argmin(1)"),
    "pp-first-center-is-x0": LLOYD_OK + PP_OK.replace("idx = [torch.randint(x.shape[0], (1,), generator=generator).item()]",
                                                      "idx = [0]"),
    "pp-weights-distance-not-squared": LLOYD_OK + PP_OK.replace(
        "i = torch.multinomial(d2, 1, generator=generator).item()",
        "i = torch.multinomial(d2.sqrt(), 1, generator=generator).item()"),
    "pp-distance-to-last-center-only": LLOYD_OK + PP_OK.replace(
        "d2 = torch.minimum(d2, ((x - x[i]) ** 2).sum(-1))", "d2 = ((x - x[i]) ** 2).sum(-1)"),
}


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass_within_half_tolerance(grade_source, name):
    assert_within_half_tolerance(grade_source(PROBLEM, CORRECT[name]))


@pytest.mark.parametrize("name", BUGS)
def test_bugs_fail(grade_source, name):
    verdict = grade_source(PROBLEM, BUGS[name])
    assert verdict.status == "failed", describe(verdict)
    assert_rejected(verdict)


def _numpy_lloyd(X, c, max_iters, tol):
    """Replica of the stated algorithm in float64; also reports whether a cluster emptied."""
    emptied = False
    for _ in range(max_iters):
        lab = np.argmin(((X[:, None] - c[None]) ** 2).sum(-1), 1)
        new_c = c.copy()
        for k in range(len(c)):
            if (lab == k).any():
                new_c[k] = X[lab == k].mean(0)
            else:
                emptied = True
        shift = ((new_c - c) ** 2).sum()
        c = new_c
        if shift <= tol:
            break
    return c, np.argmin(((X[:, None] - c[None]) ** 2).sum(-1), 1), emptied


def test_reference_matches_sklearn_and_numpy_on_every_case():
    compared_with_sklearn = 0
    for case in stored_cases(PROBLEM):
        args, _, _ = build_inputs(case)
        if "k" in case.inputs:
            x, k = args
            got = reference(PROBLEM).__globals__["kmeans_plus_plus"](x, k, torch.Generator().manual_seed(case.seed))
            g = torch.Generator().manual_seed(case.seed)
            X = x.double().numpy()
            idx = [torch.randint(len(X), (1,), generator=g).item()]
            for _ in range(1, k):
                d2 = np.min(((X[:, None] - X[idx][None]) ** 2).sum(-1), axis=1)
                idx.append(torch.multinomial(torch.from_numpy(d2), 1, generator=g).item())
            np.testing.assert_array_equal(got.numpy(), x.numpy()[idx], err_msg=case.name)
            assert len(set(map(tuple, X[idx].tolist()))) == k, case.name      # k distinct points
            continue
        x, init, max_iters, tol = args
        c, labels = reference(PROBLEM)(x, init, max_iters, tol)
        X = x.double().numpy()
        rc, rl, emptied = _numpy_lloyd(X, init.double().numpy(), max_iters, tol)
        np.testing.assert_allclose(c.double().numpy(), rc, rtol=1e-5, atol=1e-5, err_msg=case.name)
        np.testing.assert_array_equal(labels.numpy(), rl, err_msg=case.name)
        if emptied or X.var(0).mean() == 0:
            continue                                  # scikit-learn relocates empty clusters instead
        km = KMeans(n_clusters=len(init), init=init.double().numpy(), n_init=1, algorithm="lloyd",
                    max_iter=max_iters, tol=tol / X.var(0).mean()).fit(X)
        np.testing.assert_allclose(c.double().numpy(), km.cluster_centers_, rtol=1e-5, atol=1e-5, err_msg=case.name)
        np.testing.assert_array_equal(labels.numpy(), km.labels_, err_msg=case.name)
        compared_with_sklearn += 1
    assert compared_with_sklearn >= 15
