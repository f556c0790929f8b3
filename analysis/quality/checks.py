"""Data-quality checks as pure functions of a window's values (or its summaries).

Rate checks flag a violation when the (weighted) rate of offending rows exceeds ``max_rate``
(0 by default: any offending row). Checks that compare with the reference or with an
expectation -- missing rate, volume -- stay quiet at large n the way drift does: the change
must reach a threshold AND be significant AND, for the missing rate, rest on ``min_n`` rows.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from types import MappingProxyType

import numpy as np
from scipy import stats

from analysis.drift.categorical_profile import CategoricalSummary
from analysis.drift.numeric_profile import NumericSummary
from analysis.quality.findings import QualityFinding, QualityStatus
from analysis.stats.weights import check_weights

_EXAMPLES = 5


def _rate_finding(check: str, feature: str, offending: np.ndarray, weights: np.ndarray | None,
                  base: np.ndarray | None, max_rate: float, details: dict) -> QualityFinding:
    """Finding for ``offending`` rows among ``base`` rows (all rows when None), weighted."""
    n = int(offending.shape[0] if base is None else np.count_nonzero(base))
    if weights is None:
        count, total = float(np.count_nonzero(offending)), float(n)
    else:
        count = float(weights[offending].sum())
        total = float(weights.sum() if base is None else weights[base].sum())
    if total <= 0:
        return QualityFinding(check, feature, QualityStatus.insufficient_data, math.nan, max_rate, 0.0, n,
                              details=MappingProxyType({"reason": "no rows to check"}))
    rate = count / total
    status = QualityStatus.violation if rate > max_rate else QualityStatus.ok
    rows = np.flatnonzero(offending)[:_EXAMPLES].tolist()
    return QualityFinding(check, feature, status, rate, max_rate, count, n,
                          details=MappingProxyType({**details, "example_rows": rows}))


def _is_number(v: object) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_))


def _is_missing(v: object) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def type_violations(feature: str, values: np.ndarray, kind: str, weights: np.ndarray | None = None,
                    *, max_rate: float = 0.0) -> QualityFinding:
    """Rows whose value does not fit the declared kind (missing values are not violations).

    numeric: not a real number (strings, booleans, objects) or +-inf; categorical: not text or
    an integer (an integral float counts as an integer; lists, dicts, fractional floats don't).
    """
    arr = np.asarray(values).reshape(-1)
    w = check_weights(weights, arr.shape[0])
    if arr.dtype.kind in "fiu":
        bad = np.isinf(arr) if kind == "numeric" and arr.dtype.kind == "f" else np.zeros(arr.shape[0], bool)
        if kind == "categorical" and arr.dtype.kind == "f":
            finite = np.isfinite(arr)
            bad = ~finite & ~np.isnan(arr)
            bad[finite] = arr[finite] != np.floor(arr[finite])
    elif arr.dtype.kind == "b":
        bad = np.full(arr.shape[0], kind == "numeric")
    elif kind == "numeric":
        bad = np.fromiter((not _is_missing(v) and not (_is_number(v) and math.isfinite(v)) for v in arr),
                          bool, arr.shape[0])
    else:
        bad = np.fromiter((not (_is_missing(v) or isinstance(v, (str, numbers.Integral))
                                or (isinstance(v, float) and v.is_integer())) for v in arr),
                          bool, arr.shape[0])
    examples = [repr(v) for v in arr[bad][:_EXAMPLES].tolist()]
    return _rate_finding("type", feature, bad, w, None, max_rate, {"kind": kind, "examples": examples})


def out_of_range(feature: str, values: np.ndarray, low: float, high: float,
                 weights: np.ndarray | None = None, *, max_rate: float = 0.0) -> QualityFinding:
    """Finite values outside the declared closed range [low, high], as a rate of finite values."""
    x = np.asarray(values, dtype=np.float64).reshape(-1)
    w = check_weights(weights, x.shape[0])
    finite = np.isfinite(x)
    below, above = finite & (x < low), finite & (x > high)
    return _rate_finding("range", feature, below | above, w, finite, max_rate,
                         {"low": low, "high": high, "below": int(below.sum()), "above": int(above.sum())})


def missing_rate_change(feature: str, reference: NumericSummary | CategoricalSummary,
                        current: NumericSummary | CategoricalSummary, *, max_increase: float = 0.05,
                        alpha: float = 0.05, min_n: float = 100) -> QualityFinding:
    """Increase of the (weighted) missing rate over the reference's.

    Violation when ``rate_cur - rate_ref >= max_increase`` AND the one-sided two-proportion
    z-test (pooled, effective sizes) gives p <= alpha AND the window's n_eff >= min_n.
    """
    n_ref, n_cur = reference.n_eff_all, current.n_eff_all
    if not (n_ref > 0 and n_cur > 0):
        return QualityFinding("missing_rate", feature, QualityStatus.insufficient_data, math.nan, max_increase,
                              0.0, current.rows, details=MappingProxyType({"reason": "no rows"}))
    r, c = reference.missing_rate, current.missing_rate
    pooled = (r * n_ref + c * n_cur) / (n_ref + n_cur)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_ref + 1 / n_cur))
    p = float(stats.norm.sf((c - r) / se)) if se > 0 else (0.0 if c > r else 1.0)
    increase = c - r
    if n_cur < min_n:
        status = QualityStatus.insufficient_data
    elif increase >= max_increase and p <= alpha:
        status = QualityStatus.violation
    else:
        status = QualityStatus.ok
    return QualityFinding("missing_rate", feature, status, increase, max_increase, current.missing,
                          current.rows, p, MappingProxyType({"reference_rate": r, "current_rate": c}))


def not_null(feature: str, current: NumericSummary | CategoricalSummary) -> QualityFinding:
    """A feature declared ``nullable: false`` has missing values: every missing row violates."""
    missing = current.missing
    total = current.total if current.kind == "categorical" else current.total + current.missing
    status = QualityStatus.violation if missing > 0 else QualityStatus.ok
    return QualityFinding("not_null", feature, status, missing / total if total > 0 else math.nan, 0.0,
                          missing, current.rows)


def new_categories(feature: str, reference: CategoricalSummary, current: CategoricalSummary,
                   declared: Sequence[str] | None = None, *, max_rate: float = 0.0) -> QualityFinding:
    """Categories in the window that the reference never had, or that are not declared.

    ``value`` is their weight share among non-missing rows; details list them by weight.
    A reference with more than max_tracked categories cannot tell (only declared ones count).
    """
    declared_set = None if declared is None else {str(v) for v in declared}
    not_ref = set(current.new_categories())
    not_declared = set() if declared_set is None else {v for v in current.values if v not in declared_set}
    offending = not_ref | not_declared
    present = current.total - current.missing
    weight = sum(current.values[v] for v in offending)
    if present <= 0:
        return QualityFinding("new_categories", feature, QualityStatus.insufficient_data, math.nan, max_rate,
                              0.0, current.rows, details=MappingProxyType({"reason": "no non-missing rows"}))
    top = sorted(offending, key=lambda v: (-current.values[v], v))[:20]
    rate = weight / present
    return QualityFinding(
        "new_categories", feature, QualityStatus.violation if rate > max_rate else QualityStatus.ok, rate,
        max_rate, weight, current.rows,
        details=MappingProxyType({"categories": {v: current.values[v] for v in top},
                                  "not_in_reference": sorted(not_ref)[:20], "not_declared": sorted(not_declared)[:20],
                                  "reference_complete": reference.known_complete}))


def volume_drop(observed: float, expected: float, *, max_drop: float = 0.5, alpha: float = 0.05) -> QualityFinding:
    """Rows (or requests) in the window against the expected count.

    Violation when ``observed < (1 - max_drop) * expected`` AND a Poisson lower-tail test
    ``P(X <= observed | mean = expected) <= alpha`` says it is not chance.
    """
    if not expected > 0:
        return QualityFinding("volume", None, QualityStatus.insufficient_data, math.nan, 1 - max_drop, observed, 0,
                              details=MappingProxyType({"reason": "no expected volume"}))
    ratio = observed / expected
    p = float(stats.poisson.cdf(math.floor(observed), expected))
    status = QualityStatus.violation if ratio < 1 - max_drop and p <= alpha else QualityStatus.ok
    return QualityFinding("volume", None, status, ratio, 1 - max_drop, observed, int(observed), p,
                          MappingProxyType({"expected": expected}))
