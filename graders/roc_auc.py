"""Cases for roc-auc: area under the ROC curve from binary labels and scores, ties counted as 1/2,
equal to sklearn.metrics.roc_auc_score. Timed cases require O(n log n)."""

from drillcli.fixtures import Case, make_case

RETURNS = ("auc",)
MAX_TIME_RATIO = 150.0  # a plain-Python O(n log n) solution (25-80x the numpy reference under load) must pass;
#                         pairwise O(n_pos * n_neg) fails: 2.4e9 pairs on the 100k case (memory or seconds)


def cases() -> list[Case]:
    import numpy as np

    out: list[Case] = []

    def add(name, y_true, y_score, seed=None, note="", timed=False, score_dtype=np.float64):
        inputs = {"y_true": np.asarray(y_true, dtype=np.int64), "y_score": np.asarray(y_score, dtype=score_dtype)}
        out.append(make_case(name, inputs, seed=seed, note=note, timed=timed))

    def rand(seed, n, p_pos=0.4, separation=1.0, decimals=None):
        rng = np.random.default_rng(seed)
        y = (rng.random(n) < p_pos).astype(np.int64)
        y[0], y[1] = 0, 1                                  # both classes present
        s = rng.normal(size=n) + separation * y
        return y, (np.round(s, decimals) if decimals is not None else s)

    add("readable-no-ties", [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8],
        note="the example of the prompt: 3 of the 4 (positive, negative) pairs are ordered right")
    add("readable-ties", [0, 1, 0, 1, 1], [0.2, 0.5, 0.5, 0.9, 0.2],
        note="the example of the prompt: a tie between a positive and a negative counts 1/2")
    add("perfect", [0, 0, 0, 1, 1], [0.1, 0.2, 0.3, 0.8, 0.9], note="every positive above every negative: 1.0")
    add("inverted", [1, 1, 0, 0], [0.1, 0.2, 0.3, 0.8], note="every positive below every negative: 0.0")
    add("all-tied", [0, 1, 1, 0, 1, 0], [0.5] * 6, note="every score equal: 0.5")
    add("two-samples", [1, 0], [0.0, 0.0], note="n = 2, tied")
    add("two-samples-ordered", [0, 1], [-3.0, 2.0])
    add("unsorted-input", [1, 0, 1, 0, 0, 1, 0], [0.9, 0.1, 0.4, 0.6, 0.3, 0.7, 0.8], note="inputs in no order")
    add("ties-within-one-class", [0, 0, 0, 1, 1, 1], [0.2, 0.2, 0.2, 0.7, 0.7, 0.1],
        note="ties among negatives only and among positives only do not matter")
    add("random", *rand(1, 200), seed=1)
    add("random-heavy-ties", *rand(2, 300, decimals=0), seed=2,
        note="scores rounded to integers: many ties across the classes")
    add("random-few-distinct", *(lambda y, s: (y, np.clip(np.round(s), -1, 2)))(*rand(3, 500)), seed=3,
        note="only 4 distinct scores")
    add("imbalanced-one-positive", *(lambda rng: (np.eye(1, 1000, 500, dtype=np.int64)[0], rng.normal(size=1000)))(
        np.random.default_rng(4)), seed=4, note="a single positive among 1000")
    add("imbalanced-one-negative", *(lambda rng: (1 - np.eye(1, 1000, 3, dtype=np.int64)[0], rng.normal(size=1000)))(
        np.random.default_rng(5)), seed=5, note="a single negative among 1000")
    add("negative-scores", *(lambda y, s: (y, s - 50.0))(*rand(6, 100)), seed=6, note="scores need not be probabilities")
    add("huge-scores", *(lambda y, s: (y, s * 1e300))(*rand(7, 100)), seed=7, note="scores ~1e300")
    add("near-ties", [0, 1, 0, 1], [0.5, 0.5 + 1e-12, 0.5 - 1e-12, 0.5],
        note="scores 1e-12 apart are distinct; the exact-equal pair is a tie")
    add("float32-scores", *rand(8, 300, decimals=2), seed=8, score_dtype=np.float32, note="float32 scores with ties")
    add("random-weak-signal", *rand(9, 1000, separation=0.1), seed=9, note="AUC near 0.5")
    add("random-strong-signal", *rand(10, 1000, separation=4.0), seed=10, note="AUC near 1")
    # scaling cases, kept small on disk (the fixture stores them): integer-valued float32 scores, and
    # float32 scores rounded to one decimal
    rng = np.random.default_rng(11)
    y = (rng.random(60_000) < 0.4).astype(np.int64)
    scores = rng.permutation(60_000) + 12_000 * y           # distinct integers, positives shifted up
    add("scaling-60k", y, scores, seed=11, timed=True, score_dtype=np.float32,
        note="n = 60,000 distinct scores: comparing every positive with every negative is O(n^2)")
    add("scaling-100k-ties", *rand(12, 100_000, decimals=1), seed=12, timed=True, score_dtype=np.float32,
        note="n = 100,000 with heavy ties: 2.4e9 (positive, negative) pairs")
    return out
