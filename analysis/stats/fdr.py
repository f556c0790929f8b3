"""Benjamini-Hochberg false discovery rate control across features x slices."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class FdrResult:
    """``rejected[i]`` is True when hypothesis i is a discovery at the requested FDR level;
    ``adjusted[i]`` is its BH-adjusted p-value (NaN where the input p-value was NaN)."""

    rejected: np.ndarray
    adjusted: np.ndarray
    alpha: float
    m: int  # hypotheses that took part (non-NaN p-values)


def benjamini_hochberg(p_values: np.ndarray | list[float], alpha: float = 0.05) -> FdrResult:
    """Benjamini-Hochberg step-up procedure.

    With the m non-NaN p-values sorted ascending, p_(1) <= ... <= p_(m), the adjusted p-value is
    ``p_adj(i) = min_{j >= i} min(1, m * p_(j) / j)`` and hypothesis i is rejected when
    ``p_adj(i) <= alpha``; this rejects exactly the k smallest, k = max{i : p_(i) <= i alpha / m}.
    Same adjusted values as ``scipy.stats.false_discovery_control(p, method="bh")``.
    NaN p-values (a statistic that was not tested) stay out of the family: not counted in m,
    never rejected.

    Raises ValueError for alpha outside (0, 1) or a p-value outside [0, 1].
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    p = np.asarray(p_values, dtype=np.float64).reshape(-1)
    tested = ~np.isnan(p)
    if np.any((p[tested] < 0.0) | (p[tested] > 1.0)):
        raise ValueError(f"p-values must be in [0, 1], got {p[tested][(p[tested] < 0) | (p[tested] > 1)][0]}")
    adjusted = np.full(p.shape, np.nan)
    rejected = np.zeros(p.shape, dtype=bool)
    m = int(tested.sum())
    if m:
        pt = p[tested]
        order = np.argsort(pt, kind="stable")
        scaled = pt[order] * m / np.arange(1, m + 1)
        # running minimum from the largest p down makes the adjusted values monotone
        adj_sorted = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
        adj = np.empty(m)
        adj[order] = adj_sorted
        adjusted[tested] = adj
        rejected[tested] = adj <= alpha
    return FdrResult(rejected=rejected, adjusted=adjusted, alpha=alpha, m=m)
