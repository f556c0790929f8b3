"""Regression metrics with delta-method (influence function) intervals, weighted.

MAE, RMSE, MAPE and R2 as sklearn.metrics (mean_absolute_error, root_mean_squared_error,
mean_absolute_percentage_error, r2_score) with sample_weight. Each interval is
``value +- z se`` with ``se^2 = n/(n-1) sum psi_i^2``, psi_i the row's influence:
- means of a per-row loss L (MAE, MAPE): psi_i = w_i (L_i - mean) / W;
- RMSE = sqrt(MSE): psi_i = w_i (e_i^2 - MSE) / (2 RMSE W);
- R2 = 1 - A / B (A = mean squared error, B = weighted variance of y):
  psi_i = w_i (-(e_i^2 - A) / B + A (d_i^2 - B) / B^2) / W, d_i = y_i - mean(y).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from analysis.performance.metric import MetricEstimate, estimate, prepare
from analysis.stats.intervals import Interval, influence_interval

MAPE_EPS = np.finfo(np.float64).eps  # |y| floor in MAPE's denominator, as sklearn


@dataclass(frozen=True)
class RegressionReport:
    metrics: Mapping[str, MetricEstimate]
    n_missing_labels: int

    def __getitem__(self, name: str) -> MetricEstimate:
        return self.metrics[name]


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray, *, weights: np.ndarray | None = None,
                       confidence: float = 0.95) -> RegressionReport:
    """MAE, RMSE, MAPE, R2 with intervals. Rows with a missing (non-finite) label or prediction
    are dropped and counted. R2 is NaN when the labels are constant (sklearn's force_finite=False)."""
    y = np.asarray(y_true, np.float64).reshape(-1)
    p = np.asarray(y_pred, np.float64).reshape(-1)
    if y.shape != p.shape:
        raise ValueError(f"y_true has {y.shape[0]} rows, y_pred {p.shape[0]}")
    w = prepare(y.shape[0], weights)
    keep = np.isfinite(y) & np.isfinite(p)
    dropped = int((~keep).sum())
    y, p, w = y[keep], p[keep], w[keep]
    total = float(w.sum())
    if total <= 0:
        nan = Interval(math.nan, math.nan, "delta")
        return RegressionReport(MappingProxyType({n: estimate(n, math.nan, nan, confidence, w, {"reason": "no rows"})
                                                  for n in ("mae", "rmse", "mape", "r2")}), dropped)
    e = y - p
    m: dict[str, MetricEstimate] = {}
    for name, loss in (("mae", np.abs(e)), ("mape", np.abs(e) / np.maximum(np.abs(y), MAPE_EPS))):
        value = float(np.dot(w, loss) / total)
        m[name] = estimate(name, value, influence_interval(value, w * (loss - value) / total, confidence,
                                                           (0.0, math.inf)), confidence, w)
    se2 = e * e
    mse = float(np.dot(w, se2) / total)
    rmse = math.sqrt(mse)
    psi = w * (se2 - mse) / (2 * rmse * total) if rmse > 0 else np.zeros_like(w)
    m["rmse"] = estimate("rmse", rmse, influence_interval(rmse, psi, confidence, (0.0, math.inf)), confidence, w)
    d = y - float(np.dot(w, y) / total)
    var = float(np.dot(w, d * d) / total)
    if var > 0:
        r2 = 1.0 - mse / var
        psi = w * (-(se2 - mse) / var + mse * (d * d - var) / var**2) / total
        m["r2"] = estimate("r2", r2, influence_interval(r2, psi, confidence, (-math.inf, 1.0)), confidence, w)
    else:
        m["r2"] = estimate("r2", math.nan, Interval(math.nan, math.nan, "delta"), confidence, w,
                           {"reason": "undefined: constant labels"})
    return RegressionReport(MappingProxyType(m), dropped)
