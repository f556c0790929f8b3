"""Feature freshness of one window: lag percentiles of the stalest feature and per feature (pure).

Rows of kind ``freshness``, metric ``lag_p50`` / ``lag_p90`` / ``lag_p99`` / ``lag_max`` (value in
seconds, sample-weighted, see analysis.freshness), with feature ``""`` for the stalest feature
of each prediction (``feature_lag_s``) and the feature's name for per-feature lags. ``n`` is
the number of sampled predictions that sent a feature time; details carry their summed weight
and ``coverage``, the weighted share of the window's predictions that sent one. A window in
which no prediction sent a feature time gets no rows (a model that never sends them stays
quiet); freshness is not computed per slice.
"""

from __future__ import annotations

import numpy as np

from analysis.freshness import lag_summary
from analysis.jobs.results import FRESHNESS, ResultRow
from store.analysis_reads import WindowData

__all__ = ["freshness_rows"]


def _rows(feature: str, lags: np.ndarray, weights: np.ndarray, total_weight: float) -> list[ResultRow]:
    summary = lag_summary(lags, weights)
    if summary is None:
        return []
    details = {"unit": "s", "weight": summary.weight,
               "coverage": summary.weight / total_weight if total_weight > 0 else None}
    return [ResultRow(FRESHNESS, f"lag_{name}", feature, value=value, n=summary.n, details=details)
            for name, value in summary.values().items()]


def freshness_rows(data: WindowData) -> list[ResultRow]:
    """Freshness rows of the window (empty when no prediction in it sent a feature time)."""
    if data.feature_lag_s is None or not data.n:
        return []
    total = data.total_weight
    rows = _rows("", data.feature_lag_s, data.weight, total)
    for feature in sorted(data.feature_lags):
        rows.extend(_rows(feature, data.feature_lags[feature], data.weight, total))
    return rows
