"""Cases for classification-metrics: precision, recall, F1 (binary, macro, micro) with zero_division,
equal to sklearn.metrics.precision_recall_fscore_support. Inputs are numpy int64 label arrays."""

from drillcli.fixtures import Case, make_case

RETURNS = ("precision", "recall", "f1")


def cases() -> list[Case]:
    import numpy as np

    out: list[Case] = []

    def add(name, y_true, y_pred, average="binary", pos_label=1, zero_division=0.0, seed=None, note=""):
        inputs = {"y_true": np.asarray(y_true, dtype=np.int64), "y_pred": np.asarray(y_pred, dtype=np.int64),
                  "average": average, "pos_label": pos_label, "zero_division": zero_division}
        out.append(make_case(name, inputs, seed=seed, note=note))

    def rand(seed, n, k, accuracy=0.6, p=None):
        rng = np.random.default_rng(seed)
        y_true = rng.choice(k, size=n, p=p)
        noise = rng.choice(k, size=n, p=p)
        y_pred = np.where(rng.random(n) < accuracy, y_true, noise)
        return y_true, y_pred

    add("readable-binary", [1, 0, 1, 1, 0, 0, 1, 0], [1, 0, 0, 1, 1, 0, 1, 0],
        note="the example of the prompt: tp 3, fp 1, fn 1")
    add("readable-macro", [0, 1, 2, 2, 1, 0], [0, 2, 2, 2, 1, 1], average="macro",
        note="the example of the prompt, 3 classes")
    add("readable-micro", [0, 1, 2, 2, 1, 0], [0, 2, 2, 2, 1, 1], average="micro",
        note="micro over all classes of single-label data = accuracy")
    add("binary-pos-label-0", [1, 0, 1, 1, 0, 0, 1, 0], [1, 1, 0, 1, 1, 0, 1, 0], pos_label=0,
        note="pos_label 0: class 0 is the positive class (class 1 would give 0.6, 0.75, 0.667)")
    add("binary-pos-label-0-random", *rand(7, 300, 2, 0.6, [0.3, 0.7]), pos_label=0, seed=7,
        note="pos_label 0 on imbalanced data")
    add("binary-random", *rand(1, 500, 2, 0.7, [0.8, 0.2]), seed=1, note="imbalanced: 20% positives")
    add("binary-no-predicted-positives", [1, 0, 1, 0], [0, 0, 0, 0],
        note="tp + fp = 0: precision is zero_division (0), recall 0, F1 0")
    add("binary-no-predicted-positives-zd1", [1, 0, 1, 0], [0, 0, 0, 0], zero_division=1.0,
        note="precision = zero_division = 1, recall 0, F1 = 2 tp / (2 tp + fp + fn) = 0")
    add("binary-no-positives-at-all", [0, 0, 0], [0, 0, 0], zero_division=1.0,
        note="tp = fp = fn = 0: precision, recall and F1 are all zero_division (1)")
    add("binary-no-positives-at-all-zd0", [0, 0, 0], [0, 0, 0], zero_division=0.0)
    add("binary-no-true-positives", [0, 0, 0, 0], [1, 0, 1, 0], zero_division=1.0,
        note="tp + fn = 0: recall is zero_division (1), precision 0, F1 0")
    add("binary-all-correct", [1, 0, 1, 1], [1, 0, 1, 1])
    add("binary-all-wrong", [1, 0, 1, 1], [0, 1, 0, 0])
    add("binary-all-wrong-zd1", [1, 0, 1, 0], [0, 1, 0, 1], zero_division=1.0,
        note="tp = 0 with fp, fn > 0: P = R = 0 and F1 = 0; no denominator is 0, so zero_division does not apply")
    add("macro-all-wrong-zd1", [0, 1, 2, 0], [1, 2, 0, 2], average="macro", zero_division=1.0,
        note="every class has tp = 0 but nonzero denominators: all three metrics are 0")
    add("binary-single-sample", [1], [1])
    add("macro-random", *rand(2, 300, 5), average="macro", seed=2)
    add("macro-class-never-predicted", [0, 1, 2, 2, 0, 1], [0, 0, 2, 2, 0, 0], average="macro",
        note="class 1 is never predicted: its precision is zero_division (0) and it still counts in the mean")
    add("macro-class-never-predicted-zd1", [0, 1, 2, 2, 0, 1], [0, 0, 2, 2, 0, 0], average="macro", zero_division=1.0,
        note="same with zero_division 1: class 1 precision 1, recall 0, F1 0")
    add("macro-class-only-predicted", [0, 1, 2, 2], [0, 2, 2, 3], average="macro", zero_division=1.0,
        note="class 3 appears only in y_pred: it is a class (recall is zero_division), averaged over 4 classes")
    add("macro-class-only-predicted-zd0", [1, 1, 0, 0, 2], [1, 0, 0, 4, 2], average="macro",
        note="class 4 appears only in y_pred: precision 0 for it, averaged over 4 classes")
    add("macro-sparse-labels", [2, 5, 9, 9, 5, 2], [2, 9, 9, 5, 5, 2], average="macro",
        note="labels 2, 5, 9: the classes are the labels present, not range(max + 1)")
    add("macro-negative-labels", [-1, 0, 3, 3, -1], [-1, 3, 3, 0, 0], average="macro", note="labels -1, 0, 3")
    add("macro-imbalanced", *rand(3, 1000, 4, 0.5, [0.7, 0.2, 0.07, 0.03]), average="macro", seed=3,
        note="rare classes weigh as much as the frequent one in the macro mean")
    add("macro-f1-is-mean-of-f1", [0, 0, 0, 0, 1, 1], [0, 1, 1, 1, 1, 1], average="macro",
        note="macro F1 averages per-class F1, not the harmonic mean of macro precision and recall")
    add("macro-on-binary-labels", [1, 0, 1, 1, 0, 0, 1, 0], [1, 0, 0, 1, 1, 0, 1, 1], average="macro",
        note="average macro on 0/1 labels: both classes count")
    add("micro-random", *rand(4, 400, 6), average="micro", seed=4)
    add("micro-on-binary-labels", [1, 0, 1, 1, 0, 0, 1, 0], [1, 0, 0, 1, 1, 0, 1, 1], average="micro",
        note="average micro on 0/1 labels counts both classes: accuracy, not the positive-class F1")
    add("micro-sparse-labels", [2, 5, 9, 9, 5, 2, 7], [2, 9, 9, 5, 5, 2, 2], average="micro")
    add("large-random-macro", *rand(5, 20000, 10, 0.4), average="macro", seed=5)
    add("large-random-binary", *rand(6, 20000, 2, 0.9, [0.97, 0.03]), seed=6, note="3% positives")
    return out
