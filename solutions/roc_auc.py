import numpy as np


def roc_auc(y_true, y_score):
    """Mann-Whitney form: AUC = P(score of a random positive > score of a random negative), ties 1/2."""
    y_true, y_score = np.asarray(y_true), np.asarray(y_score)
    _, inverse, counts = np.unique(y_score, return_inverse=True, return_counts=True)
    avg_rank = np.cumsum(counts) - (counts - 1) / 2         # (distinct,) 1-based average rank of each tie group
    ranks = avg_rank[inverse]                               # (n,) tied scores share their average rank
    n_pos = int(np.sum(y_true == 1))
    n_neg = len(y_true) - n_pos
    # rank sum of the positives minus its minimum n_pos (n_pos + 1) / 2 = pairs won (ties count 1/2)
    return float((ranks[y_true == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
