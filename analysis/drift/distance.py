"""Distances between numeric distributions on the reference grid: KS and Wasserstein-1.

Both are computed from the window's cell weights and cell sums on the reference's quantile grid
(numeric_profile.py), never from sorted raw values, so a window costs no sort and window
summaries merge. Accuracy (docs/statistics.md, "Sketch accuracy"):

- KS: D is evaluated at every grid point, which gives a lower bound of the two-sample D (the
  conservative direction: p-values are never too small); ``details["d_upper"]`` is an upper
  bound from the cell masses. Exact when every value of both samples is a grid point (discrete
  data with at most sketch_size + 1 distinct values).
- Wasserstein-1: the integral of F_ref - F_cur over each cell is exact from the cell weights and
  sums; W1 = sum over cells of its absolute value, exact unless the two CDFs cross inside a cell
  (a pure location shift never crosses), otherwise a lower bound.

Missing values are excluded: both statistics describe the non-missing values.
"""

from __future__ import annotations

import math
from functools import lru_cache
from types import MappingProxyType

import numpy as np
from scipy import special, stats

from analysis.drift.numeric_profile import NumericSummary
from analysis.drift.registry import StatResult, Status, insufficient, register


def _sizes(ref: NumericSummary, cur: NumericSummary) -> dict[str, float]:
    return dict(n_reference=ref.rows_present, n_current=cur.rows_present,
                n_eff_reference=ref.n_eff, n_eff_current=cur.n_eff)


def _not_comparable(name: str, ref: NumericSummary, cur: NumericSummary) -> StatResult | None:
    ref.check_same_bins(cur)
    if ref.total <= 0:
        return insufficient(name, "numeric", "reference has no non-missing value", **_sizes(ref, cur))
    if cur.total <= 0:
        return insufficient(name, "numeric", "window has no non-missing value", **_sizes(ref, cur))
    return None


def ks_distance(ref: NumericSummary, cur: NumericSummary) -> tuple[float, float]:
    """(D at the grid points, upper bound of D between grid points)."""
    g = ref.grid.shape[0]
    f_ref = np.cumsum(ref.counts)[:g] / ref.total
    f_cur = np.cumsum(cur.counts)[:g] / cur.total
    d = float(np.max(np.abs(f_ref - f_cur)))
    # inside cell (g_{i-1}, g_i] each CDF stays between its values at the two ends
    prev_ref, prev_cur = np.concatenate(([0.0], f_ref)), np.concatenate(([0.0], f_cur))
    next_ref, next_cur = np.append(f_ref, 1.0), np.append(f_cur, 1.0)
    upper = float(max(np.max(next_ref - prev_cur), np.max(next_cur - prev_ref)))
    return d, max(d, upper)


# kstwo.sf is exact in n but costs up to seconds at n = 1e6 (3.2 s measured at D = 0.003); past
# this size the limiting distribution differs from it by < 1% (relative) where p is near alpha
KS_EXACT_MAX_N = 1_000


@lru_cache(maxsize=4096)  # ks, wasserstein and wasserstein_norm share one (D, n) per feature
def _ks_sf(d: float, en: int) -> float:
    if en <= KS_EXACT_MAX_N:
        return float(stats.kstwo.sf(d, en))
    return float(special.kolmogorov(math.sqrt(en) * d))


def ks_p_value(d: float, n_eff_ref: float, n_eff_cur: float) -> float:
    """Two-sided asymptotic p-value with effective sizes n, m and en = round(n m / (n + m)):
    ``kstwo.sf(D, en)`` as scipy.stats.ks_2samp(method="asymp") for en <= 1000, the limiting
    Kolmogorov distribution ``Q(sqrt(en) D)`` (scipy.special.kolmogorov) above."""
    en = max(1, round(n_eff_ref * n_eff_cur / (n_eff_ref + n_eff_cur)))
    return min(max(_ks_sf(d, en), 0.0), 1.0)


def wasserstein_1(ref: NumericSummary, cur: NumericSummary) -> float:
    """``W1 = integral |F_ref(x) - F_cur(x)| dx``, cell by cell (see module docstring)."""
    g = ref.grid - ref.shift  # sums are about the shift too
    size = g.shape[0]

    def cell_integrals(s: NumericSummary) -> np.ndarray:
        f = np.cumsum(s.counts) / s.total
        m, sums = s.counts / s.total, s.sums / s.total
        out = np.empty(size + 1)
        out[0] = m[0] * g[0] - sums[0]  # integral of F over (-inf, g_0]
        # integral of F over (a, b] = (b - a) F(a) + sum over the cell of w (b - x) / W
        out[1:size] = (g[1:] - g[:-1]) * f[: size - 1] + m[1:size] * g[1:] - sums[1:size]
        out[size] = sums[size] - m[size] * g[size - 1]  # integral of 1 - F over (g_last, inf)
        return out

    i_ref, i_cur = cell_integrals(ref), cell_integrals(cur)
    delta = i_ref - i_cur
    delta[size] = -delta[size]  # the last cell integrates 1 - F; |.| makes the sign moot anyway
    return float(np.sum(np.abs(delta)))


@register("ks", kind="numeric", value_range=(0.0, 1.0), default_threshold=0.1, test="ks",
          description="two-sample Kolmogorov-Smirnov D (weighted ECDFs) at the grid points")
def ks(ref: NumericSummary, cur: NumericSummary) -> StatResult:
    """``D = max_x |F_ref(x) - F_cur(x)|`` with weighted ECDFs ``F(x) = sum_{x_i <= x} w_i / sum w``;
    p-value from kstwo with effective sizes (see ks_p_value)."""
    bad = _not_comparable("ks", ref, cur)
    if bad is not None:
        return bad
    d, upper = ks_distance(ref, cur)
    return StatResult(name="ks", kind="numeric", value=d, effect_size=d,
                      p_value=ks_p_value(d, ref.n_eff, cur.n_eff), status=Status.ok,
                      **_sizes(ref, cur), details=MappingProxyType({"d_upper": upper}))


@register("wasserstein", kind="numeric", value_range=(0.0, math.inf), default_threshold=None, test="ks",
          description="Wasserstein-1 distance in the feature's units")
def wasserstein(ref: NumericSummary, cur: NumericSummary) -> StatResult:
    """Wasserstein-1 (earth mover's) distance, in the feature's units; p-value of the KS test
    (same null: equal distributions). No default threshold: units differ per feature."""
    bad = _not_comparable("wasserstein", ref, cur)
    if bad is not None:
        return bad
    w1 = wasserstein_1(ref, cur)
    d, _ = ks_distance(ref, cur)
    return StatResult(name="wasserstein", kind="numeric", value=w1, effect_size=w1,
                      p_value=ks_p_value(d, ref.n_eff, cur.n_eff), status=Status.ok, **_sizes(ref, cur),
                      details=MappingProxyType({"reference_std": ref.std}))


@register("wasserstein_norm", kind="numeric", value_range=(0.0, math.inf), default_threshold=0.05, test="ks",
          description="Wasserstein-1 divided by the reference standard deviation")
def wasserstein_norm(ref: NumericSummary, cur: NumericSummary) -> StatResult:
    """``W1 / sigma_ref`` (weighted population std of the reference). A constant reference
    gives 0 when the window equals it and +inf otherwise."""
    bad = _not_comparable("wasserstein_norm", ref, cur)
    if bad is not None:
        return bad
    w1 = wasserstein_1(ref, cur)
    std = ref.std
    scale = max(abs(ref.shift), ref.max - ref.min, 1.0)
    if std > 0:
        value = w1 / std
    else:  # rounding leaves ~1e-16 * scale where the window equals the constant reference
        value = 0.0 if w1 <= 1e-12 * scale else math.inf
    d, _ = ks_distance(ref, cur)
    return StatResult(name="wasserstein_norm", kind="numeric", value=value, effect_size=value,
                      p_value=ks_p_value(d, ref.n_eff, cur.n_eff), status=Status.ok, **_sizes(ref, cur),
                      details=MappingProxyType({"wasserstein": w1, "reference_std": std}))
