"""ROC AUC with DeLong's variance, weighted.

For positives i and negatives j with weights, ``AUC = sum_i sum_j w_i w_j (1[s_i > s_j] +
1/2 1[s_i = s_j]) / (W_pos W_neg)`` (sklearn's roc_auc_score with sample_weight). DeLong's
placement values V10_i (weighted share of negatives a positive beats) and V01_j (share of
positives beating a negative) give the influence of each row; with equal weights the variance
is DeLong's ``S10 / m + S01 / n``.
"""

from __future__ import annotations

import math

import numpy as np


def _beaten(scores: np.ndarray, w: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Weighted mass of ``scores`` strictly below ``at`` plus half the mass equal to it."""
    order = np.argsort(scores, kind="stable")
    s, cum = scores[order], np.concatenate(([0.0], np.cumsum(w[order])))
    below = cum[np.searchsorted(s, at, side="left")]
    upto = cum[np.searchsorted(s, at, side="right")]
    return below + 0.5 * (upto - below)


def auc_influence(scores: np.ndarray, is_pos: np.ndarray, w: np.ndarray) -> tuple[float, np.ndarray, float]:
    """(AUC, per-row influence psi, DeLong variance). NaN AUC when a class is absent."""
    pos, neg = is_pos, ~is_pos
    w_pos, w_neg = float(w[pos].sum()), float(w[neg].sum())
    if w_pos <= 0 or w_neg <= 0:
        return math.nan, np.zeros(scores.shape[0]), math.nan
    v10 = _beaten(scores[neg], w[neg], scores[pos]) / w_neg
    v01 = 1.0 - _beaten(scores[pos], w[pos], scores[neg]) / w_pos  # share of positives above
    auc = float(np.dot(w[pos], v10) / w_pos)
    psi = np.empty(scores.shape[0])
    psi[pos] = w[pos] * (v10 - auc) / w_pos
    psi[neg] = w[neg] * (v01 - auc) / w_neg
    m, n = int(pos.sum()), int(neg.sum())
    # unbiased per-group factors m/(m-1), n/(n-1): DeLong's S10 and S01 use (m - 1) and (n - 1)
    var = float(np.dot(psi[pos], psi[pos])) * (m / (m - 1) if m > 1 else math.inf) + \
        float(np.dot(psi[neg], psi[neg])) * (n / (n - 1) if n > 1 else math.inf)
    return auc, psi, var
