"""Paired tests once labels arrive: candidate and production judged on the same labelled rows.

Classifiers: accuracy difference (candidate - production) with McNemar's test and Newcombe's
hybrid score interval for a paired difference of proportions. Regressors: difference in mean
absolute error with a normal interval and the Wilcoxon signed-rank test on the paired absolute
errors. Pure functions of arrays; tests check them against scipy and hand computation.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats

from analysis.stats.intervals import newcombe_interval, z_value

__all__ = ["McNemar", "PairedAccuracy", "PairedAbsError", "mcnemar", "newcombe_paired", "paired_abs_error",
           "paired_accuracy"]

EXACT_BELOW = 25  # discordant pairs under which the exact binomial test is used


def _plain(obj: Any) -> dict[str, Any]:
    return {k: (v if not isinstance(v, float) or math.isfinite(v) else None) for k, v in asdict(obj).items()}


@dataclass(frozen=True)
class McNemar:
    """``b``: production right, candidate wrong; ``c``: production wrong, candidate right."""

    b: int
    c: int
    statistic: float
    p_value: float
    method: str  # "exact" (binomial) or "chi2_cc" (chi-square with continuity correction)


def mcnemar(b: int, c: int, exact_below: int = EXACT_BELOW) -> McNemar:
    """McNemar's test of ``b == c`` in expectation.

    ``b + c < exact_below``: exact two-sided binomial test, ``p = min(1, 2 * P(X <= min(b, c)))``
    with ``X ~ Bin(b + c, 1/2)`` (as statsmodels' ``mcnemar(exact=True)``); otherwise
    ``chi2 = (|b - c| - 1)^2 / (b + c)`` on 1 degree of freedom (``exact=False, correction=True``).
    No discordant pair: p = 1. Raises ValueError for a negative count."""
    if b < 0 or c < 0:
        raise ValueError(f"discordant counts must be >= 0, got b={b}, c={c}")
    n = b + c
    if n == 0:
        return McNemar(b, c, 0.0, 1.0, "exact")
    if n < exact_below:
        return McNemar(b, c, float(min(b, c)), float(min(1.0, 2.0 * stats.binom.cdf(min(b, c), n, 0.5))), "exact")
    statistic = (abs(b - c) - 1.0) ** 2 / n
    return McNemar(b, c, statistic, float(stats.chi2.sf(statistic, 1)), "chi2_cc")


def newcombe_paired(a: int, b: int, c: int, d: int, confidence: float = 0.95) -> tuple[float, float]:
    """Newcombe (1998) method 10 interval for ``p1 - p2`` from paired counts, where
    p1 = (a + c) / n (candidate right), p2 = (a + b) / n (production right); a both right,
    d both wrong: analysis.stats.intervals.newcombe_interval with phi the 2x2 correlation
    (0 when a margin is empty). Returns (NaN, NaN) without pairs."""
    n = a + b + c + d
    if n == 0:
        return math.nan, math.nan
    denominator = math.sqrt(float(a + c) * (b + d) * (a + b) * (c + d))
    phi = (a * d - b * c) / denominator if denominator > 0 else 0.0
    interval = newcombe_interval((a + c) / n, n, (a + b) / n, n, confidence, phi)
    return interval.lower, interval.upper


@dataclass(frozen=True)
class PairedAccuracy:
    n: int
    production: float
    candidate: float
    difference: float  # candidate - production
    lower: float
    upper: float
    confidence: float
    test: McNemar

    def to_dict(self) -> dict[str, Any]:
        out = _plain(self)
        out["test"] = _plain(self.test)
        return out


def paired_accuracy(production_correct: np.ndarray, candidate_correct: np.ndarray,
                    confidence: float = 0.95) -> PairedAccuracy:
    """Accuracy of both on the same labelled rows (boolean arrays), their difference with
    Newcombe's interval, and McNemar's test."""
    prod = np.asarray(production_correct, dtype=bool)
    cand = np.asarray(candidate_correct, dtype=bool)
    a = int(np.count_nonzero(prod & cand))
    b = int(np.count_nonzero(prod & ~cand))
    c = int(np.count_nonzero(~prod & cand))
    d = int(np.count_nonzero(~prod & ~cand))
    n = a + b + c + d
    lower, upper = newcombe_paired(a, b, c, d, confidence)
    p_acc = (a + b) / n if n else math.nan
    c_acc = (a + c) / n if n else math.nan
    return PairedAccuracy(n, p_acc, c_acc, c_acc - p_acc, lower, upper, confidence, mcnemar(b, c))


@dataclass(frozen=True)
class PairedAbsError:
    n: int
    production_mae: float
    candidate_mae: float
    difference: float  # candidate MAE - production MAE: negative is better
    lower: float
    upper: float
    confidence: float
    p_value: float  # Wilcoxon signed-rank, two-sided, zero differences dropped
    statistic: float

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


def paired_abs_error(production_abs_error: np.ndarray, candidate_abs_error: np.ndarray,
                     confidence: float = 0.95) -> PairedAbsError:
    """MAE of both, their difference with a normal interval ``mean(d) +- z sd(d) / sqrt(n)``
    (d = candidate - production absolute error per row), and ``scipy.stats.wilcoxon(d)``.
    All differences zero: p = 1. Fewer than 2 rows: NaN interval and p."""
    prod = np.asarray(production_abs_error, dtype=np.float64)
    cand = np.asarray(candidate_abs_error, dtype=np.float64)
    d = cand - prod
    n = int(d.size)
    if n == 0:
        return PairedAbsError(0, math.nan, math.nan, math.nan, math.nan, math.nan, confidence, math.nan, math.nan)
    mean = float(d.mean())
    if n < 2:
        return PairedAbsError(n, float(prod.mean()), float(cand.mean()), mean, math.nan, math.nan, confidence,
                              math.nan, math.nan)
    half = z_value(confidence) * float(d.std(ddof=1)) / math.sqrt(n)
    if not np.any(d != 0):
        p_value, statistic = 1.0, 0.0
    else:
        result = stats.wilcoxon(d, zero_method="wilcox", alternative="two-sided")
        p_value, statistic = float(result.pvalue), float(result.statistic)
    return PairedAbsError(n, float(prod.mean()), float(cand.mean()), mean, mean - half, mean + half, confidence,
                          p_value, statistic)
