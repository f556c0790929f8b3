"""Accuracy (classifiers) or MAE (regressors) of two versions from their labelled samples (pure).

The versions served different requests, so the comparison is unpaired (unlike the shadow
comparison, which judges both models on the same rows with McNemar / Wilcoxon):
- accuracy: the weighted share of right predictions per version at its Kish effective size,
  compared as two independent proportions (Newcombe interval, pooled z or Fisher's exact);
- MAE: the weighted mean absolute error per version, with delta-method standard errors
  (analysis.stats.intervals.influence_se, as the performance metrics' MAE interval), their
  difference with a normal interval and a two-sided z-test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from analysis.canary.inputs import VersionSample
from analysis.stats.intervals import influence_se, z_value
from analysis.stats.plain import plain
from analysis.stats.proportions import compare_proportions
from analysis.stats.weights import effective_sample_size

__all__ = ["QualityComparison", "compare_quality"]


@dataclass(frozen=True)
class QualityComparison:
    """``metric``: "accuracy" or "mae"; ``difference``: canary - stable (negative accuracy or
    positive MAE is worse); ``labelled_*``: labelled sampled rows; ``n_eff_*``: Kish sizes."""

    metric: str
    stable: float
    canary: float
    labelled_stable: int
    labelled_canary: int
    n_eff_stable: float
    n_eff_canary: float
    difference: float
    lower: float
    upper: float
    confidence: float
    p_value: float
    method: str

    def to_dict(self) -> dict[str, Any]:
        return plain(self)


def _labelled(sample: VersionSample) -> tuple[np.ndarray, np.ndarray, float]:
    keep = sample.labelled
    w, y = sample.weight[keep], sample.outcome[keep]
    return y, w, effective_sample_size(float(w.sum()), float(np.dot(w, w)))


def _mean(y: np.ndarray, w: np.ndarray) -> float:
    total = float(w.sum())
    return float(np.dot(w, y)) / total if total > 0 else math.nan


def _accuracy(stable: VersionSample, canary: VersionSample, confidence: float) -> QualityComparison:
    (ys, ws, ns), (yc, wc, nc) = _labelled(stable), _labelled(canary)
    a, b = _mean(ys, ws), _mean(yc, wc)
    test = compare_proportions(0.0 if math.isnan(a) else a, ns, 0.0 if math.isnan(b) else b, nc, confidence)
    return QualityComparison("accuracy", a, b, ys.shape[0], yc.shape[0], ns, nc, test.difference, test.lower,
                             test.upper, confidence, test.p_value, test.method)


def _mae(stable: VersionSample, canary: VersionSample, confidence: float) -> QualityComparison:
    (ys, ws, ns), (yc, wc, nc) = _labelled(stable), _labelled(canary)
    a, b = _mean(ys, ws), _mean(yc, wc)
    se = math.nan
    if math.isfinite(a) and math.isfinite(b):
        se = math.hypot(influence_se(ws * (ys - a) / ws.sum()), influence_se(wc * (yc - b) / wc.sum()))
    difference = b - a
    if not math.isfinite(se):
        return QualityComparison("mae", a, b, ys.shape[0], yc.shape[0], ns, nc, difference, math.nan, math.nan,
                                 confidence, math.nan, "none")
    half = z_value(confidence) * se
    p_value = float(2.0 * stats.norm.sf(abs(difference) / se)) if se > 0 else (1.0 if difference == 0 else 0.0)
    return QualityComparison("mae", a, b, ys.shape[0], yc.shape[0], ns, nc, difference, difference - half,
                             difference + half, confidence, p_value, "z_delta")


def compare_quality(regression: bool, stable: VersionSample, canary: VersionSample,
                    confidence: float = 0.95) -> QualityComparison | None:
    """The labelled comparison, or None when neither version has a labelled row."""
    if not (stable.labelled.any() or canary.labelled.any()):
        return None
    return (_mae if regression else _accuracy)(stable, canary, confidence)
