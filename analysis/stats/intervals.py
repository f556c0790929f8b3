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
    se = influence_se(influence)
    if not math.isfinite(se) or not math.isfinite(estimate):
        return Interval(math.nan, math.nan, "delta")
    half = z_value(confidence) * se
    return Interval(max(bounds[0], estimate - half), min(bounds[1], estimate + half), "delta")


def influence_se(influence: np.ndarray) -> float:
    """Standard error from per-row influence values: ``sqrt(n/(n-1) * sum psi_i^2)``; NaN with
    fewer than 2 rows. (influence_interval's se; a difference of two independent estimates has
    ``se^2 = se_a^2 + se_b^2``.)"""
    n = influence.shape[0]
    if n < 2:
        return math.nan
    return math.sqrt(float(np.dot(influence, influence)) * n / (n - 1))


def newcombe_interval(p1: float, n1: float, p2: float, n2: float, confidence: float = 0.95,
                      phi: float = 0.0) -> Interval:
    """Newcombe's hybrid score interval for ``p1 - p2`` from the Wilson intervals (l_i, u_i) of
    each proportion at its (effective) size n_i::

        L = d - sqrt((p1 - l1)^2 - 2 phi (p1 - l1)(u2 - p2) + (u2 - p2)^2)
        U = d + sqrt((u1 - p1)^2 - 2 phi (u1 - p1)(p2 - l2) + (p2 - l2)^2)

    ``phi = 0`` for independent samples (Newcombe 1998, Stat Med 17:873, method 10); for paired
    data phi is the 2x2 table's correlation (Newcombe 1998, Stat Med 17:2635, method 10).
    Clipped to [-1, 1]; NaN bounds when either size is 0."""
    w1, w2 = wilson_interval(p1, n1, confidence), wilson_interval(p2, n2, confidence)
    if math.isnan(w1.lower) or math.isnan(w2.lower):
        return Interval(math.nan, math.nan, "newcombe")
    delta = p1 - p2
    lower = delta - math.sqrt(max((p1 - w1.lower) ** 2 - 2 * phi * (p1 - w1.lower) * (w2.upper - p2)
                                  + (w2.upper - p2) ** 2, 0.0))
    upper = delta + math.sqrt(max((w1.upper - p1) ** 2 - 2 * phi * (w1.upper - p1) * (p2 - w2.lower)
                                  + (p2 - w2.lower) ** 2, 0.0))
    return Interval(max(-1.0, lower), min(1.0, upper), "newcombe")
