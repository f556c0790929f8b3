"""Two independent proportions: their difference with Newcombe's interval and a two-sided test.

Used where two groups of different requests are compared (a canary and its stable version):
error rates from the exact request counters, accuracy from weighted labelled samples. Sizes may
be effective sample sizes (Kish) rather than counts, so a few heavy rows do not pass for many.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from scipy import stats

from analysis.stats.intervals import newcombe_interval
from analysis.stats.plain import plain

__all__ = ["EXACT_BELOW", "ProportionDifference", "compare_proportions"]

EXACT_BELOW = 5.0  # smallest expected cell count under which Fisher's exact test is used


@dataclass(frozen=True)
class ProportionDifference:
    """``b - a`` with its interval and the p-value of "a and b are the same proportion".

    ``method``: "z_pooled" (the pooled two-proportion z-test, identical to the 2x2 chi-square
    test without continuity correction), "fisher_exact" (small expected counts), or "none"
    (a group is empty: difference, interval and p are NaN)."""

    a: float
    n_a: float
    b: float
    n_b: float
    difference: float
    lower: float
    upper: float
    confidence: float
    p_value: float
    method: str

    def to_dict(self) -> dict[str, Any]:
        return plain(self)


def _fisher(a: float, n_a: float, b: float, n_b: float) -> float:
    # counts rounded: with weights, the effective sizes are not whole numbers
    ka, kb = round(a * n_a), round(b * n_b)
    table = [[ka, round(n_a) - ka], [kb, round(n_b) - kb]]
    return float(stats.fisher_exact(table).pvalue)


def compare_proportions(a: float, n_a: float, b: float, n_b: float, confidence: float = 0.95,
                        exact_below: float = EXACT_BELOW) -> ProportionDifference:
    """Compare proportion ``a`` (of size ``n_a``) with ``b`` (size ``n_b``).

    Interval: Newcombe's hybrid score interval for ``b - a`` (independent samples). Test, with
    the pooled proportion ``p = (a n_a + b n_b) / (n_a + n_b)``: when every expected cell
    ``n p``, ``n (1 - p)`` is at least ``exact_below``, ``z = (b - a) / sqrt(p (1 - p)
    (1/n_a + 1/n_b))`` and ``p_value = 2 P(Z > |z|)``; otherwise Fisher's exact test on the
    (rounded) 2x2 counts. Equal proportions at 0 or 1 give p = 1. Raises ValueError for a
    proportion outside [0, 1] or a negative size."""
    for name, value in (("a", a), ("b", b)):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"proportion {name} must be in [0, 1], got {value}")
    if n_a < 0 or n_b < 0:
        raise ValueError(f"sizes must be >= 0, got n_a={n_a}, n_b={n_b}")
    if not (n_a > 0 and n_b > 0):
        nan = math.nan
        return ProportionDifference(a, n_a, b, n_b, nan, nan, nan, confidence, nan, "none")
    interval = newcombe_interval(b, n_b, a, n_a, confidence)
    pooled = (a * n_a + b * n_b) / (n_a + n_b)
    expected = min(n * share for n in (n_a, n_b) for share in (pooled, 1.0 - pooled))
    if expected < exact_below:
        p_value, method = _fisher(a, n_a, b, n_b), "fisher_exact"
    else:
        se = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n_a + 1.0 / n_b))
        p_value, method = float(2.0 * stats.norm.sf(abs(b - a) / se)), "z_pooled"
    return ProportionDifference(a, n_a, b, n_b, b - a, interval.lower, interval.upper, confidence,
                                min(1.0, p_value), method)
