"""Expected calibration error (top-label) with a seeded bootstrap interval."""

from __future__ import annotations

import math

import numpy as np

from analysis.stats.intervals import Interval


def _ece(weight: np.ndarray, correct: np.ndarray, confidence: np.ndarray) -> float:
    """``sum_b (W_b / W) |acc_b - conf_b|`` from per-bin weight, correct weight, confidence sum."""
    total = weight.sum()
    used = weight > 0
    return float(np.sum(np.abs(correct[used] - confidence[used])) / total) if total > 0 else math.nan


def expected_calibration_error(
    confidence: np.ndarray, correct: np.ndarray, w: np.ndarray, *, bins: int = 10,
    bootstrap: int = 1000, seed: int = 0, level: float = 0.95,
) -> tuple[float, Interval]:
    """Top-label ECE: equal-width bins of the predicted class's probability on [0, 1] (right-
    closed, the first bin also holds 0), ``ECE = sum_b (W_b / W) |accuracy_b - confidence_b|``.

    Interval: percentile bootstrap with ``bootstrap`` replicates from ``seed``, resampling the
    (bin, correct) table multinomially at the effective sample size and keeping each cell's mean
    confidence -- an approximation of a row bootstrap that costs O(bins) per replicate.
    """
    b = np.clip(np.ceil(confidence * bins).astype(np.intp) - 1, 0, bins - 1)
    cell = b * 2 + correct.astype(np.intp)
    weight = np.bincount(cell, weights=w, minlength=2 * bins)
    conf_sum = np.bincount(cell, weights=w * confidence, minlength=2 * bins)
    per_bin = weight.reshape(bins, 2)
    value = _ece(per_bin.sum(1), per_bin[:, 1], conf_sum.reshape(bins, 2).sum(1))
    total = weight.sum()
    n_eff = total * total / float(np.dot(w, w)) if total > 0 else 0.0
    if not n_eff >= 1:
        return value, Interval(math.nan, math.nan, "bootstrap")
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(max(1, round(n_eff)), weight / total, size=bootstrap).astype(np.float64)
    mean_conf = np.divide(conf_sum, weight, out=np.zeros_like(conf_sum), where=weight > 0)
    cells = counts.reshape(bootstrap, bins, 2)
    conf = (counts * mean_conf).reshape(bootstrap, bins, 2).sum(2)
    reps = np.abs(cells[:, :, 1] - conf).sum(1) / counts.sum(1)
    alpha = (1 - level) / 2
    lo, hi = np.quantile(reps, [alpha, 1 - alpha])
    return value, Interval(float(lo), float(hi), "bootstrap")
