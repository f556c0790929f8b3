"""Burn-rate arithmetic: pure functions of counts, objective and windows.

Conventions (docs/slo.md): an SLO with objective ``o`` allows an error ratio of ``1 - o``; the
burn rate is how many times faster than that allowance the budget is being spent. Burn 1 spends
exactly the whole budget over the SLO window; the most an SLO can burn is ``1 / (1 - o)``.
"""

from __future__ import annotations

import math
from datetime import timedelta
from statistics import NormalDist

import numpy as np

__all__ = [
    "burn_rate",
    "error_budget_remaining",
    "error_ratio",
    "max_possible_burn",
    "time_to_exhaustion",
    "wilson_lower_bound",
    "z_one_sided",
]


def error_ratio(bad: float, total: float) -> float:
    """Return ``bad / total``; NaN when ``total`` is 0 (no data is not a ratio of 0).

    Raises ValueError when a count is negative or ``bad > total``.
    """
    if bad < 0 or total < 0 or bad > total:
        raise ValueError(f"counts must satisfy 0 <= bad <= total, got bad={bad}, total={total}")
    return math.nan if total == 0 else bad / total


def burn_rate(ratio: float, objective: float) -> float:
    """Return ``ratio / (1 - objective)``: 1 spends the budget in exactly one SLO window.

    NaN in gives NaN out. Raises ValueError unless ``0 < objective < 1``.
    """
    _check_objective(objective)
    return ratio / (1.0 - objective)


def max_possible_burn(objective: float) -> float:
    """Return ``1 / (1 - objective)``, the burn of a full outage (error ratio 1).

    A rule whose threshold is above it can never fire (14.4x on a 90 % SLO, whose max is 10x).
    """
    _check_objective(objective)
    return 1.0 / (1.0 - objective)


def error_budget_remaining(bad: float, total: float, objective: float) -> float:
    """Return the fraction of the SLO window's error budget left: ``1 - (bad/total) / (1 - o)``.

    1 means untouched, 0 exhausted, negative overspent (-1: twice the budget used). ``bad`` and
    ``total`` are counts over the SLO window so far. NaN when ``total`` is 0 (no data).
    """
    return 1.0 - burn_rate(error_ratio(bad, total), objective)


def time_to_exhaustion(budget_remaining: float, current_burn: float, window: timedelta) -> timedelta | None:
    """Return when the budget runs out at the current burn: ``remaining * window / burn``.

    Burn ``b`` spends ``b / window`` of the budget per unit of time, so ``remaining`` lasts
    ``remaining * window / b``. Returns ``timedelta(0)`` when nothing is left, and None when the
    budget is not being spent (burn <= 0) or either input is NaN.
    """
    if math.isnan(budget_remaining) or math.isnan(current_burn):
        return None
    if budget_remaining <= 0:
        return timedelta(0)
    if current_burn <= 0:
        return None
    return window * (budget_remaining / current_burn)


def z_one_sided(confidence: float) -> float:
    """Return z with ``P(Z <= z) = confidence`` (1.645 at 0.95): the bound is one-sided."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    return NormalDist().inv_cdf(confidence)


def wilson_lower_bound(bad: np.ndarray | float, total: np.ndarray | float, confidence: float = 0.95) -> np.ndarray:
    """Return the Wilson score lower bound of the error ratio, elementwise (NaN where total is 0).

    With ``p = bad/n`` and one-sided ``z``::

        lower = (p + z^2/(2n) - z * sqrt(p(1-p)/n + z^2/(4n^2))) / (1 + z^2/n)

    Firing decisions use this bound, so a few errors in a handful of requests (1 in 10: lower
    bound 0.018 at 95 %) are not taken for a 10 % error rate, while at high traffic the bound
    converges to the raw ratio.
    """
    z = z_one_sided(confidence)
    bad_arr = np.asarray(bad, dtype=np.float64)
    n = np.asarray(total, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = bad_arr / n
        z2n = z * z / n
        centre = p + z2n / 2.0
        half = z * np.sqrt(np.maximum(p * (1.0 - p), 0.0) / n + z2n / (4.0 * n))
        lower = (centre - half) / (1.0 + z2n)
    return np.where(n > 0, np.clip(lower, 0.0, 1.0), np.nan)


def _check_objective(objective: float) -> None:
    if not 0.0 < objective < 1.0:
        raise ValueError(f"objective must be in (0, 1), got {objective}")
