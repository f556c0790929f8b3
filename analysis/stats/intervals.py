"""Confidence intervals shared by quality checks, performance metrics and estimates."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special


def z_value(confidence: float) -> float:
    """Two-sided standard normal quantile: z such that P(|Z| <= z) = confidence."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    return float(math.sqrt(2.0) * special.erfinv(confidence))


@dataclass(frozen=True)
class Interval:
    lower: float
    upper: float
    method: str


def wilson_interval(proportion: float, n_eff: float, confidence: float = 0.95) -> Interval:
    """Wilson score interval for a (weighted) proportion p with effective sample size n:

    ``(p + z^2/2n +- z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)``.

    Returns NaN bounds when n_eff is 0 or p is NaN.
    """
    if not n_eff > 0.0 or math.isnan(proportion):
        return Interval(math.nan, math.nan, "wilson")
    z = z_value(confidence)
    z2n = z * z / n_eff
    centre = (proportion + z2n / 2.0) / (1.0 + z2n)
    half = z * math.sqrt(max(proportion * (1.0 - proportion), 0.0) / n_eff + z2n / (4.0 * n_eff)) / (1.0 + z2n)
    return Interval(max(0.0, centre - half), min(1.0, centre + half), "wilson")


def influence_interval(
    estimate: float,
    influence: np.ndarray,
    confidence: float = 0.95,
    bounds: tuple[float, float] = (-math.inf, math.inf),
) -> Interval:
    """Normal interval from per-row influence values psi_i of an estimator (delta method).

    ``se^2 = n/(n-1) * sum psi_i^2``; for a weighted mean ``psi_i = w_i (x_i - mean) / sum w``,
    which gives the familiar ``s / sqrt(n)`` with equal weights. The interval is clipped to
    ``bounds`` (e.g. [0, 1] for a probability-valued metric).
    """
    n = influence.shape[0]
    if n < 2 or not math.isfinite(estimate):
        return Interval(math.nan, math.nan, "delta")
    se = math.sqrt(float(np.dot(influence, influence)) * n / (n - 1))
    half = z_value(confidence) * se
    return Interval(max(bounds[0], estimate - half), min(bounds[1], estimate + half), "delta")
