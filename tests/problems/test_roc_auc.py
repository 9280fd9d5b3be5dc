"""roc-auc: the reference equals sklearn's roc_auc_score on every case, correct variants pass
(including an O(n log n) pure-Python one), realistic bugs fail. sklearn is a test-only dependency."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from tests.support import assert_rejected, assert_within_half_tolerance, describe, mutate, reference, stored_cases

PROBLEM = "roc-auc"

CORRECT = {
    "scipy-rankdata-mann-whitney": """
        import numpy as np
        from scipy.stats import rankdata
        def roc_auc(y_true, y_score):
            r = rankdata(y_score)                      # average ranks for ties, 1-based
            pos = y_true == 1
            n_pos, n_neg = int(pos.sum()), int((~pos).sum())
            return (r[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    """,
    "roc-curve-trapezoid": """
        import numpy as np
        def roc_auc(y_true, y_score):
            order = np.argsort(-y_score.astype(np.float64), kind="stable")
            s, y = y_score[order], y_true[order]
            last = np.r_[np.nonzero(np.diff(s))[0], len(s) - 1]     # last index of each distinct score
            tps = np.cumsum(y)[last]
            fps = (last + 1) - tps
            tpr = np.r_[0, tps] / tps[-1]
            fpr = np.r_[0, fps] / fps[-1]
            return float(np.sum((fpr[1:] - fpr[:-1]) * (tpr[1:] + tpr[:-1]) / 2))
    """,
    "searchsorted-negatives": """
        import numpy as np
        def roc_auc(y_true, y_score):
            neg = np.sort(y_score[y_true == 0])
            pos = y_score[y_true == 1]
            below = np.searchsorted(neg, pos, side="left")            # negatives strictly lower
            ties = np.searchsorted(neg, pos, side="right") - below   # negatives equal
            return float((below.sum() + 0.5 * ties.sum()) / (len(pos) * len(neg)))
    """,
    "pure-python-sort-and-groups": """
        def roc_auc(y_true, y_score):
            pairs = sorted(zip(y_score.tolist(), y_true.tolist()))
            n_pos = sum(y for _, y in pairs)
            n_neg = len(pairs) - n_pos
            won2, neg_below, i = 0, 0, 0                 # won2 counts half-pairs, to stay in integers
            while i < len(pairs):
                j = i
                while j < len(pairs) and pairs[j][0] == pairs[i][0]:
                    j += 1
                p = sum(y for _, y in pairs[i:j])
                n = (j - i) - p
                won2 += p * (2 * neg_below + n)          # each positive beats the negatives below, ties 1/2
                neg_below += n
                i = j
            return won2 / (2 * n_pos * n_neg)
    """,
}

_BASE = """
    import numpy as np
    def roc_auc(y_true, y_score):
        _, inverse, counts = np.unique(y_score, return_inverse=True, return_counts=True)
        avg_rank = np.cumsum(counts) - (counts - 1) / 2
        ranks = avg_rank[inverse]
        n_pos = int(np.sum(y_true == 1))
        n_neg = len(y_true) - n_pos
        return float((ranks[y_true == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
"""


def _bug(old: str, new: str) -> str:
    return mutate(_BASE, (old, new))


BUGS = {
    "ordinal-ranks-ignore-ties": _bug(
        "_, inverse, counts = np.unique(y_score, return_inverse=True, return_counts=True)\n"
        "        avg_rank = np.cumsum(counts) - (counts - 1) / 2\n        ranks = avg_rank[inverse]",
        "ranks = np.argsort(np.argsort(y_score)) + 1.0"),
    "zero-based-ranks": _bug("ranks = avg_rank[inverse]", "ranks = avg_rank[inverse] - 1"),
    "max-rank-for-ties": _bug("avg_rank = np.cumsum(counts) - (counts - 1) / 2", "avg_rank = np.cumsum(counts) * 1.0"),
    "min-rank-for-ties": _bug("avg_rank = np.cumsum(counts) - (counts - 1) / 2", "avg_rank = np.cumsum(counts) - counts + 1.0"),
    "labels-reversed": _bug("ranks[y_true == 1].sum()", "ranks[y_true == 0].sum()").replace(
        "n_pos = int(np.sum(y_true == 1))", "n_pos = int(np.sum(y_true == 0))"),
    "staircase-without-tie-groups": """
        import numpy as np
        def roc_auc(y_true, y_score):
            order = np.argsort(-y_score, kind="stable")
            y = y_true[order]
            tpr = np.r_[0, np.cumsum(y)] / y.sum()
            fpr = np.r_[0, np.cumsum(1 - y)] / (1 - y).sum()
            return float(np.trapezoid(tpr, fpr))
    """,
    "rectangles-instead-of-trapezoids": """
        import numpy as np
        def roc_auc(y_true, y_score):
            order = np.argsort(-y_score, kind="stable")
            s, y = y_score[order], y_true[order]
            last = np.r_[np.nonzero(np.diff(s))[0], len(s) - 1]
            tps = np.cumsum(y)[last]
            fps = (last + 1) - tps
            tpr, fpr = np.r_[0, tps] / tps[-1], np.r_[0, fps] / fps[-1]
            return float(np.sum((fpr[1:] - fpr[:-1]) * tpr[:-1]))
    """,
    "ranks-summed-in-float32": _bug("ranks = avg_rank[inverse]", "ranks = avg_rank[inverse].astype(np.float32)").replace(
        "ranks[y_true == 1].sum()", "ranks[y_true == 1].sum(dtype=np.float32)"),
}

TOO_SLOW = {
    "pairwise-broadcast": """
        import numpy as np
        def roc_auc(y_true, y_score):
            pos, neg = y_score[y_true == 1], y_score[y_true == 0]
            diff = pos[:, None] - neg[None, :]
            return float(((diff > 0).sum() + 0.5 * (diff == 0).sum()) / diff.size)
    """,
    "pairwise-chunked-numpy": """
        import numpy as np
        def roc_auc(y_true, y_score):
            pos, neg = y_score[y_true == 1], y_score[y_true == 0]
            won = 0.0
            for i in range(0, len(pos), 2000):                 # bounded memory, still n_pos * n_neg work
                block = pos[i:i + 2000, None]
                won += (block > neg).sum() + 0.5 * (block == neg).sum()
            return float(won / (len(pos) * len(neg)))
    """,
    "pairwise-python-loops": """
        def roc_auc(y_true, y_score):
            pos = [s for s, y in zip(y_score, y_true) if y == 1]
            neg = [s for s, y in zip(y_score, y_true) if y == 0]
            total = 0.0
            for p in pos:
                for n in neg:
                    total += 1.0 if p > n else 0.5 if p == n else 0.0
            return total / (len(pos) * len(neg))
    """,
}


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass_within_half_tolerance(grade_source, name):
    assert_within_half_tolerance(grade_source(PROBLEM, CORRECT[name]))


@pytest.mark.parametrize("name", BUGS)
def test_bugs_fail(grade_source, name):
    verdict = grade_source(PROBLEM, BUGS[name])
    assert verdict.status == "failed", describe(verdict)
    assert_rejected(verdict)


@pytest.mark.parametrize("name", TOO_SLOW)
def test_quadratic_solutions_fail_the_scaling_cases(grade_source, name):
    verdict = grade_source(PROBLEM, TOO_SLOW[name])
    assert not verdict.ok and verdict.status in ("too_slow", "memory", "timeout"), describe(verdict)
    small = [c for c in verdict.cases if not c.name.startswith("scaling")]
    assert all(c.passed for c in small), describe(verdict)   # correct values: only the complexity is wrong


def test_reference_matches_sklearn_on_every_case():
    for case in stored_cases(PROBLEM):
        y_true, y_score = np.asarray(case.inputs["y_true"]), np.asarray(case.inputs["y_score"])
        expected = roc_auc_score(y_true, y_score)
        ours = reference(PROBLEM)(y_true, y_score)
        assert abs(ours - expected) <= 1e-12, (case.name, ours, expected)
        assert abs(float(case.outputs["auc"]) - expected) <= 1e-12, case.name
