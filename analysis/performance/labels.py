"""Label coverage and label lag of a window (labels arrive late, joined by prediction id)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from analysis.performance.metric import MetricEstimate
from analysis.performance.rates import share


def label_coverage(labeled: np.ndarray, *, weights: np.ndarray | None = None,
                   confidence: float = 0.95) -> MetricEstimate:
    """Weighted share of the window's predictions that have a label, with a Wilson interval."""
    return share("label_coverage", labeled, weights=weights, confidence=confidence)


@dataclass(frozen=True)
class LabelLag:
    """Seconds from prediction to label, over labeled rows (NaN when none)."""

    n: int
    p50: float
    p90: float
    p99: float
    max: float


def label_lag(prediction_times: np.ndarray, label_times: np.ndarray) -> LabelLag:
    """Quantiles (linear interpolation) of label_time - prediction_time; rows whose label time
    is missing (NaN / NaT) are unlabeled and skipped. Times are epoch seconds or datetime64."""
    t0, t1 = np.asarray(prediction_times), np.asarray(label_times)
    if t0.dtype.kind == "M" or t1.dtype.kind == "M":
        lag = (t1.astype("datetime64[ns]") - t0.astype("datetime64[ns]")).astype("timedelta64[ns]")
        lag = np.where(np.isnat(lag), np.nan, lag.astype(np.float64) / 1e9)
    else:
        lag = t1.astype(np.float64) - t0.astype(np.float64)
    lag = lag[~np.isnan(lag)]
    if lag.shape[0] == 0:
        return LabelLag(0, math.nan, math.nan, math.nan, math.nan)
    p50, p90, p99 = np.quantile(lag, [0.5, 0.9, 0.99])
    return LabelLag(int(lag.shape[0]), float(p50), float(p90), float(p99), float(lag.max()))
