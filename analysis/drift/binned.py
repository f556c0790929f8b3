"""Shared machinery of the binned statistics: proportions, smoothing, the chi-square test.

Both feature kinds expose ``bin_counts`` (weights per bin, the missing bin included) and
``n_eff_all``; PSI, KL, JS, Hellinger and chi-square are functions of the two count vectors.
"""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType
from typing import Any

import numpy as np
from scipy import stats

from analysis.drift.registry import FeatureKind, StatResult, Status, insufficient

EPSILON = 1e-4  # added to every bin's proportion before renormalising (PSI, KL, Cohen's w)


def smooth(p: np.ndarray, eps: float = EPSILON) -> np.ndarray:
    """``(p_i + eps) / (1 + k eps)`` over the k bins: no empty bin, still sums to 1."""
    return (p + eps) / (1.0 + p.shape[0] * eps)


def homogeneity_test(ref: np.ndarray, cur: np.ndarray, n_eff_ref: float, n_eff_cur: float) -> tuple[float, float, int]:
    """Pearson chi-square test of homogeneity on the 2 x k table of effective counts.

    Each row is rescaled to its Kish effective size (``counts * n_eff / sum(counts)``; the raw
    counts when unweighted); bins empty in both rows are dropped. Returns (statistic, p-value,
    dof), equal to ``scipy.stats.chi2_contingency(table, correction=False)``; (0, 1, 0) when fewer
    than two bins are occupied.
    """
    table = np.vstack((ref * (n_eff_ref / ref.sum()), cur * (n_eff_cur / cur.sum())))
    table = table[:, table.sum(axis=0) > 0]
    dof = table.shape[1] - 1
    if dof < 1:
        return 0.0, 1.0, 0
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    statistic = float(((table - expected) ** 2 / expected).sum())
    return statistic, float(stats.chi2.sf(statistic, dof)), dof


def binned_result(
    name: str, kind: FeatureKind, ref: Any, cur: Any,
    effect: Callable[[np.ndarray, np.ndarray], float],
    value: Callable[[np.ndarray, np.ndarray, float], float] | None = None,
) -> StatResult:
    """Run a binned statistic: ``effect(p_ref, p_cur)`` on bin proportions (missing bin
    included), p-value from the homogeneity test. ``value`` (default: the effect) may turn the
    effect into a different reported value, given the test statistic."""
    ref.check_same_bins(cur)  # raises: summaries on different bins are not comparable
    ref_counts, cur_counts = ref.bin_counts, cur.bin_counts
    ref_total, cur_total = float(ref_counts.sum()), float(cur_counts.sum())
    n_eff_ref, n_eff_cur = ref.n_eff_all, cur.n_eff_all
    sizes = dict(n_reference=ref.rows, n_current=cur.rows, n_eff_reference=n_eff_ref, n_eff_current=n_eff_cur)
    if ref_total <= 0:
        return insufficient(name, kind, "reference has no rows", **sizes)
    if cur_total <= 0:
        return insufficient(name, kind, "window has no rows", **sizes)
    p_ref, p_cur = ref_counts / ref_total, cur_counts / cur_total
    chi2, p_value, dof = homogeneity_test(ref_counts, cur_counts, n_eff_ref, n_eff_cur)
    effect_size = float(effect(p_ref, p_cur))
    reported = effect_size if value is None else float(value(p_ref, p_cur, chi2))
    return StatResult(
        name=name, kind=kind, value=reported, effect_size=effect_size, p_value=p_value,
        status=Status.ok, **sizes,
        details=MappingProxyType({"bins": len(p_ref), "chi2": chi2, "dof": dof}),
    )
