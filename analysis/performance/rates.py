"""Weighted shares of a window's predictions with Wilson intervals: label coverage, the error
rate (predictions the model failed on) and the slow rate (successful predictions slower than a
latency SLO's threshold). Per slice, they show where an availability or latency SLO burns."""

from __future__ import annotations

import math

import numpy as np

from analysis.performance.metric import MetricEstimate, estimate, prepare
from analysis.stats.intervals import wilson_interval
from analysis.stats.weights import effective_sample_size

__all__ = ["error_rate", "share", "slow_rate"]


def share(name: str, flags: np.ndarray, *, weights: np.ndarray | None = None, confidence: float = 0.95,
          details: dict[str, object] | None = None) -> MetricEstimate:
    """Weighted share of rows whose flag is set (sample weights 1/rate: the share of traffic),
    with a Wilson interval at the effective sample size; NaN without rows."""
    has = np.asarray(flags, bool).reshape(-1)
    w = prepare(has.shape[0], weights)
    total = float(w.sum())
    value = float(w[has].sum() / total) if total > 0 else math.nan
    n_eff = effective_sample_size(total, float(np.dot(w, w)))
    return estimate(name, value, wilson_interval(value, n_eff, confidence), confidence, w, details)


def error_rate(failed: np.ndarray, *, weights: np.ndarray | None = None, confidence: float = 0.95) -> MetricEstimate:
    """Share of predictions that failed (``error`` set)."""
    return share("error_rate", failed, weights=weights, confidence=confidence)


def slow_rate(latency_ms: np.ndarray, threshold_ms: float, *, failed: np.ndarray | None = None,
              weights: np.ndarray | None = None, confidence: float = 0.95) -> MetricEstimate:
    """Share of timed, successful predictions slower than ``threshold_ms`` -- the latency SLO's
    bad events (failures count against availability, not latency, as in the SLO's counters)."""
    latency = np.asarray(latency_ms, np.float64).reshape(-1)
    timed = np.isfinite(latency)
    if failed is not None:
        timed &= ~np.asarray(failed, bool).reshape(-1)
    w = prepare(latency.shape[0], weights)
    return share("slow_rate", latency[timed] > threshold_ms, weights=w[timed], confidence=confidence,
                 details={"threshold_ms": float(threshold_ms)})
