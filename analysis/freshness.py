"""Feature freshness statistics: weighted percentiles of feature lags (pure).

A lag is prediction time - feature time, in seconds (collector.freshness). Each sampled
prediction stands for ``weight`` = 1 / sample rate predictions, so the percentiles are of the
traffic, not of the sample: the weighted quantile at level q is the smallest lag whose
cumulative weight reaches q of the total (numpy's ``inverted_cdf`` with weights, the
convention of docs/statistics.md)::

    p_q = min { x_(i) : w_(1) + ... + w_(i) >= q * (w_(1) + ... + w_(n)) }    (x sorted ascending)

so every reported percentile is a lag that was observed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["LEVELS", "LagSummary", "lag_summary"]

LEVELS: dict[str, float] = {"p50": 0.5, "p90": 0.9, "p99": 0.99}


@dataclass(frozen=True)
class LagSummary:
    """Weighted lag percentiles in seconds of ``n`` predictions weighing ``weight`` in all."""

    n: int
    weight: float
    p50: float
    p90: float
    p99: float
    max: float

    def values(self) -> dict[str, float]:
        """Statistic name -> seconds: p50, p90, p99, max."""
        return {"p50": self.p50, "p90": self.p90, "p99": self.p99, "max": self.max}


def lag_summary(lags: np.ndarray, weights: np.ndarray) -> LagSummary | None:
    """Weighted percentiles of the finite ``lags`` (NaN = no feature time: left out, with its
    weight); None when no row has a lag. Raises ValueError when the shapes differ or a weight
    of a counted row is not positive."""
    lags, weights = np.asarray(lags, dtype=np.float64), np.asarray(weights, dtype=np.float64)
    if lags.shape != weights.shape:
        raise ValueError(f"lags {lags.shape} and weights {weights.shape} differ in shape")
    keep = np.isfinite(lags)
    if not keep.any():
        return None
    x, w = lags[keep], weights[keep]
    if not (w > 0).all():
        raise ValueError("sample weights must be positive")
    p50, p90, p99 = np.quantile(x, list(LEVELS.values()), method="inverted_cdf", weights=w)
    return LagSummary(int(x.shape[0]), float(w.sum()), float(p50), float(p90), float(p99), float(x.max()))
