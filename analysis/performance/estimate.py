"""Label-free accuracy: confidence-based expected accuracy from calibrated scores.

If a classifier is calibrated, the predicted class is right with probability equal to its
confidence c_i = max_k p_ik (binary: max(p, 1 - p)); so the window's accuracy is a
Poisson-binomial variable with mean ``sum w_i c_i / W`` and variance
``sum w_i^2 c_i (1 - c_i) / W^2``. As labels arrive, labeled rows count with their realized
correctness and only the unlabeled rows stay estimated, so the estimate turns into the realized
accuracy (``estimated=False``) once every row has its label. The interval covers the
Poisson-binomial spread only: it does not cover miscalibration (check ECE while labels come in).
"""

from __future__ import annotations

import math

import numpy as np

from analysis.performance.metric import MetricEstimate, estimate, prepare
from analysis.stats.intervals import Interval, z_value


def expected_accuracy(probabilities: np.ndarray, *, weights: np.ndarray | None = None,
                      correct: np.ndarray | None = None, confidence: float = 0.95,
                      threshold: float = 0.5) -> MetricEstimate:
    """Expected accuracy with a normal interval on the Poisson-binomial variance.

    ``probabilities``: positive-class scores (n,) or class probabilities (n, k). ``correct``:
    optional realized correctness per row (1/0, NaN where the label has not arrived).
    Binary: the predicted class is positive when ``p >= threshold``, so a row's chance of being
    right is p there and 1 - p otherwise (max(p, 1 - p) at the default 0.5).
    Returns ``estimated=True`` while any row is unlabeled.
    """
    p = np.asarray(probabilities, np.float64)
    conf = np.where(p >= threshold, p, 1.0 - p) if p.ndim == 1 else p.max(axis=1)
    w = prepare(conf.shape[0], weights)
    known = np.zeros(conf.shape[0], bool) if correct is None else ~np.isnan(np.asarray(correct, np.float64))
    total = float(w.sum())
    if total <= 0:
        return estimate("expected_accuracy", math.nan, Interval(math.nan, math.nan, "poisson_binomial"),
                        confidence, w, {"reason": "no rows"}, estimated=True)
    realized = np.where(known, np.nan_to_num(np.asarray(correct, np.float64)) if correct is not None else 0.0, conf)
    value = float(np.dot(w, realized) / total)
    open_w, open_c = w[~known], conf[~known]
    var = float(np.dot(open_w * open_w, open_c * (1 - open_c))) / total**2
    half = z_value(confidence) * math.sqrt(var)
    return estimate("expected_accuracy", value,
                    Interval(max(0.0, value - half), min(1.0, value + half), "poisson_binomial"), confidence, w,
                    {"labeled_share": float(w[known].sum() / total), "mean_confidence": float(np.dot(w, conf) / total)},
                    estimated=bool((~known).any()))
