"""Candidate vs production on the same rows, without labels: agreement and label flips, score
deltas, rank correlation, latency quantiles, error rates. Pure functions over arrays.

Conventions: rows where either side has no output are left out of agreement and deltas (they
count in the error rates instead); quantiles are numpy's default (linear interpolation).
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats

__all__ = ["AgreementStats", "LatencyStats", "QuantileSummary", "Rate", "agreement", "error_rate", "latency_stats",
           "per_row_latency", "quantile_summary", "rank_correlation", "value_agreement"]

QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
TOP_FLIPS = 10


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _plain(obj: Any) -> dict[str, Any]:
    return {k: (_finite(v) if isinstance(v, float) else v) for k, v in asdict(obj).items()}


@dataclass(frozen=True)
class QuantileSummary:
    """Distribution of ``candidate - production`` (NaN rows dropped)."""

    n: int
    mean: float
    quantiles: tuple[tuple[float, float], ...]  # (q, value)
    max_abs: float

    def at(self, q: float) -> float:
        return dict(self.quantiles).get(q, math.nan)

    def to_dict(self) -> dict[str, Any]:
        return {"n": self.n, "mean": _finite(self.mean), "max_abs": _finite(self.max_abs),
                "quantiles": {f"p{round(q * 100):02d}": _finite(v) for q, v in self.quantiles}}


def quantile_summary(values: np.ndarray) -> QuantileSummary:
    v = np.asarray(values, dtype=np.float64)
    v = v[~np.isnan(v)]
    if v.size == 0:
        return QuantileSummary(0, math.nan, tuple((q, math.nan) for q in QUANTILES), math.nan)
    qs = np.quantile(v, QUANTILES)
    return QuantileSummary(int(v.size), float(v.mean()), tuple(zip(QUANTILES, map(float, qs))), float(np.abs(v).max()))


@dataclass(frozen=True)
class AgreementStats:
    """``agreement``: share of rows where both sides output the same label (or, for a regressor,
    values within the tolerance); ``flip_rate = 1 - agreement``; ``flips``: the most frequent
    (production label, candidate label, count) changes."""

    n: int
    agreement: float
    flip_rate: float
    flips: tuple[tuple[str, str, int], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out = _plain(self)
        out["flips"] = [{"production": p, "candidate": c, "count": k} for p, c, k in self.flips]
        return out


def agreement(production: np.ndarray, candidate: np.ndarray) -> AgreementStats:
    """Label agreement over rows where both labels are present (object arrays of text/None)."""
    both = np.array([p is not None and c is not None for p, c in zip(production.tolist(), candidate.tolist())], dtype=bool)
    prod, cand = production[both], candidate[both]
    n = int(both.sum())
    if n == 0:
        return AgreementStats(0, math.nan, math.nan)
    same = prod == cand
    rate = float(np.count_nonzero(same)) / n
    flips = Counter(zip(prod[~same].tolist(), cand[~same].tolist())).most_common(TOP_FLIPS)
    return AgreementStats(n, rate, 1.0 - rate, tuple((str(p), str(c), k) for (p, c), k in flips))


def value_agreement(production: np.ndarray, candidate: np.ndarray, tolerance: float | np.ndarray) -> AgreementStats:
    """Share of rows with ``|candidate - production| <= tolerance`` (regression)."""
    both = ~np.isnan(production) & ~np.isnan(candidate)
    n = int(both.sum())
    if n == 0:
        return AgreementStats(0, math.nan, math.nan)
    limit = tolerance[both] if isinstance(tolerance, np.ndarray) else tolerance
    rate = float(np.count_nonzero(np.abs(candidate[both] - production[both]) <= limit)) / n
    return AgreementStats(n, rate, 1.0 - rate)


def rank_correlation(production: np.ndarray, candidate: np.ndarray) -> float:
    """Spearman's rho of the two score (or value) columns over rows where both are present;
    NaN with fewer than 3 rows or a constant column (no ranking to compare)."""
    both = ~np.isnan(production) & ~np.isnan(candidate)
    a, b = production[both], candidate[both]
    if a.size < 3 or np.all(a == a[0]) or np.all(b == b[0]):
        return math.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(stats.spearmanr(a, b).statistic)


@dataclass(frozen=True)
class LatencyStats:
    n: int
    mean: float
    p50: float
    p95: float
    p99: float

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


def per_row_latency(batch_latency_ms: np.ndarray, batch_size: np.ndarray) -> np.ndarray:
    """A row's share of its batch's run: ``batch latency / batch size`` (NaN for unrun rows)."""
    size = np.asarray(batch_size, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(size > 0, np.asarray(batch_latency_ms, dtype=np.float64) / size, np.nan)


def latency_stats(latency_ms: np.ndarray) -> LatencyStats:
    v = np.asarray(latency_ms, dtype=np.float64)
    v = v[~np.isnan(v)]
    if v.size == 0:
        return LatencyStats(0, math.nan, math.nan, math.nan, math.nan)
    p50, p95, p99 = np.quantile(v, (0.5, 0.95, 0.99))
    return LatencyStats(int(v.size), float(v.mean()), float(p50), float(p95), float(p99))


@dataclass(frozen=True)
class Rate:
    n: int
    events: int
    rate: float

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


def error_rate(failed: np.ndarray) -> Rate:
    """Share of rows that failed (boolean array); NaN without rows."""
    n = int(failed.shape[0])
    k = int(np.count_nonzero(failed))
    return Rate(n, k, k / n if n else math.nan)
