"""classification-metrics: the reference equals sklearn's precision_recall_fscore_support on every
case, correct variants pass, realistic bugs fail. sklearn is a test-only dependency."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import precision_recall_fscore_support

from tests.support import assert_rejected, assert_within_half_tolerance, describe, mutate, reference, stored_cases

PROBLEM = "classification-metrics"

CORRECT = {
    "confusion-matrix": """
        import numpy as np
        def precision_recall_f1(y_true, y_pred, average="binary", pos_label=1, zero_division=0.0):
            labels = np.unique(np.concatenate([y_true, y_pred]))
            t = np.searchsorted(labels, y_true)
            p = np.searchsorted(labels, y_pred)
            K = len(labels)
            cm = np.zeros((K, K), dtype=np.int64)
            np.add.at(cm, (t, p), 1)                      # rows: true class, columns: predicted class
            tp = np.diag(cm).astype(float)
            fp = cm.sum(axis=0) - tp
            fn = cm.sum(axis=1) - tp
            if average == "binary":
                k = np.searchsorted(labels, pos_label)
                present = k < K and labels[k] == pos_label
                tp, fp, fn = (np.array([a[k]]) if present else np.zeros(1) for a in (tp, fp, fn))
            elif average == "micro":
                tp, fp, fn = tp.sum(keepdims=True), fp.sum(keepdims=True), fn.sum(keepdims=True)
            with np.errstate(divide="ignore", invalid="ignore"):
                P = np.where(tp + fp > 0, tp / (tp + fp), zero_division)
                R = np.where(tp + fn > 0, tp / (tp + fn), zero_division)
                F = np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), zero_division)
            return P.mean(), R.mean(), F.mean()
    """,
    "python-counters": """
        from collections import Counter
        def precision_recall_f1(y_true, y_pred, average="binary", pos_label=1, zero_division=0.0):
            yt, yp = [int(v) for v in y_true], [int(v) for v in y_pred]
            tp, pc, tc = Counter(), Counter(yp), Counter(yt)
            for a, b in zip(yt, yp):
                if a == b:
                    tp[a] += 1
            classes = [pos_label] if average == "binary" else sorted(set(yt) | set(yp))
            def div(n, d):
                return n / d if d else float(zero_division)
            if average == "micro":
                T = sum(tp[c] for c in classes)
                P, R = sum(pc[c] for c in classes), sum(tc[c] for c in classes)
                return div(T, P), div(T, R), div(2 * T, P + R)
            ps = [div(tp[c], pc[c]) for c in classes]
            rs = [div(tp[c], tc[c]) for c in classes]
            fs = [div(2 * tp[c], pc[c] + tc[c]) for c in classes]
            n = len(classes)
            return sum(ps) / n, sum(rs) / n, sum(fs) / n
    """,
    "torch-bincount-harmonic-mean": """
        import torch
        def precision_recall_f1(y_true, y_pred, average="binary", pos_label=1, zero_division=0.0):
            yt, yp = torch.from_numpy(y_true), torch.from_numpy(y_pred)
            labels = torch.unique(torch.cat([yt, yp]))
            if average == "binary":
                labels = torch.tensor([pos_label])
            tp = torch.stack([((yt == c) & (yp == c)).sum() for c in labels]).double()
            npred = torch.stack([(yp == c).sum() for c in labels]).double()
            ntrue = torch.stack([(yt == c).sum() for c in labels]).double()
            if average == "micro":
                tp, npred, ntrue = tp.sum(0, keepdim=True), npred.sum(0, keepdim=True), ntrue.sum(0, keepdim=True)
            zd = torch.full_like(tp, float(zero_division))
            P = torch.where(npred > 0, tp / npred.clamp(min=1), zd)
            R = torch.where(ntrue > 0, tp / ntrue.clamp(min=1), zd)
            # harmonic mean where P + R > 0; F1 is 0 when tp = 0 but a denominator is nonzero
            F = torch.where(P + R > 0, 2 * P * R / (P + R).clamp(min=1e-300), torch.zeros_like(P))
            F = torch.where(npred + ntrue == 0, zd, torch.where(tp == 0, torch.zeros_like(F), F))
            return P.mean().item(), R.mean().item(), F.mean().item()
    """,
    "micro-as-accuracy": """
        import numpy as np
        def precision_recall_f1(y_true, y_pred, average="binary", pos_label=1, zero_division=0.0):
            if average == "micro":                        # single-label: every miss is one fp and one fn
                acc = float(np.mean(y_true == y_pred))
                return acc, acc, acc
            classes = [pos_label] if average == "binary" else sorted(set(y_true.tolist()) | set(y_pred.tolist()))
            P, R, F = [], [], []
            for c in classes:
                tp = int(((y_true == c) & (y_pred == c)).sum())
                fp = int(((y_true != c) & (y_pred == c)).sum())
                fn = int(((y_true == c) & (y_pred != c)).sum())
                P.append(tp / (tp + fp) if tp + fp else zero_division)
                R.append(tp / (tp + fn) if tp + fn else zero_division)
                F.append(2 * tp / (2 * tp + fp + fn) if 2 * tp + fp + fn else zero_division)
            return float(np.mean(P)), float(np.mean(R)), float(np.mean(F))
    """,
}

_BASE = """
    import numpy as np
    def precision_recall_f1(y_true, y_pred, average="binary", pos_label=1, zero_division=0.0):
        labels = np.array([pos_label]) if average == "binary" else np.union1d(y_true, y_pred)
        tp = np.array([np.sum((y_true == c) & (y_pred == c)) for c in labels])
        pred = np.array([np.sum(y_pred == c) for c in labels])
        true = np.array([np.sum(y_true == c) for c in labels])
        if average == "micro":
            tp, pred, true = tp.sum(keepdims=True), pred.sum(keepdims=True), true.sum(keepdims=True)
        def ratio(num, den):
            return np.where(den > 0, num / np.maximum(den, 1), zero_division)
        precision, recall = ratio(tp, pred), ratio(tp, true)
        f1 = ratio(2 * tp, pred + true)
        return float(precision.mean()), float(recall.mean()), float(f1.mean())
"""


def _bug(old: str, new: str) -> str:
    return mutate(_BASE, (old, new))


BUGS = {
    "macro-f1-from-macro-p-and-r": _bug(
        "return float(precision.mean()), float(recall.mean()), float(f1.mean())",
        "P, R = float(precision.mean()), float(recall.mean())\n"
        "        return P, R, (2 * P * R / (P + R) if P + R else float(zero_division))"),
    "no-zero-division-handling": _bug("return np.where(den > 0, num / np.maximum(den, 1), zero_division)",
                                      "with np.errstate(all='ignore'):\n                return num / den"),
    "zero-division-argument-ignored": _bug("np.maximum(den, 1), zero_division)", "np.maximum(den, 1), 0.0)"),
    "precision-and-recall-swapped": _bug("precision, recall = ratio(tp, pred), ratio(tp, true)",
                                         "precision, recall = ratio(tp, true), ratio(tp, pred)"),
    "classes-from-range-of-max": _bug("np.union1d(y_true, y_pred)", "np.arange(max(y_true.max(), y_pred.max()) + 1)"),
    "classes-from-y-true-only": _bug("np.union1d(y_true, y_pred)", "np.unique(y_true)"),
    "micro-is-macro": _bug("if average == \"micro\":", "if False:"),
    "pos-label-ignored": _bug("np.array([pos_label])", "np.array([1])"),
    "pos-label-zero-taken-as-default": _bug("np.array([pos_label])", "np.array([pos_label or 1])"),
    "weighted-instead-of-macro": _bug(
        "return float(precision.mean()), float(recall.mean()), float(f1.mean())",
        "w = true / true.sum()\n        return float((precision * w).sum()), float((recall * w).sum()), float((f1 * w).sum())"),
    "f1-zero-division-from-p-and-r": _bug(
        "f1 = ratio(2 * tp, pred + true)",
        "f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-300), zero_division)"),
}


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass_within_half_tolerance(grade_source, name):
    assert_within_half_tolerance(grade_source(PROBLEM, CORRECT[name]))


@pytest.mark.parametrize("name", BUGS)
def test_bugs_fail(grade_source, name):
    verdict = grade_source(PROBLEM, BUGS[name])
    assert verdict.status == "failed", describe(verdict)
    assert_rejected(verdict)


def test_sklearn_is_forbidden(grade_source):
    verdict = grade_source(PROBLEM, """
        from sklearn.metrics import precision_recall_fscore_support
        def precision_recall_f1(y_true, y_pred, average="binary", pos_label=1, zero_division=0.0):
            return precision_recall_fscore_support(y_true, y_pred, average=average)[:3]
    """)
    assert verdict.status == "forbidden", describe(verdict)


def test_reference_matches_sklearn_on_every_case():
    for case in stored_cases(PROBLEM):
        i = case.inputs
        y_true, y_pred = np.asarray(i["y_true"]), np.asarray(i["y_pred"])
        kwargs = {"average": i["average"], "zero_division": i["zero_division"]}
        if i["average"] == "binary":
            kwargs["pos_label"] = i["pos_label"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndefinedMetricWarning)
            expected = precision_recall_fscore_support(y_true, y_pred, **kwargs)[:3]
        ours = reference(PROBLEM)(y_true, y_pred, i["average"], i["pos_label"], i["zero_division"])
        np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-12, err_msg=case.name)
        stored = [float(case.outputs[k]) for k in ("precision", "recall", "f1")]
        np.testing.assert_allclose(stored, expected, rtol=1e-12, atol=1e-12, err_msg=case.name)
