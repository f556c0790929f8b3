"""Categorical-only statistics: the chi-square test and the change in cardinality."""

from __future__ import annotations

import math
from types import MappingProxyType

import numpy as np

from analysis.drift.binned import binned_result, smooth
from analysis.drift.categorical_profile import CategoricalSummary
from analysis.drift.registry import StatResult, Status, insufficient, register


def cohens_w(p_ref: np.ndarray, p_cur: np.ndarray) -> float:
    """Cohen's w ``sqrt(sum (c_i - r_i)^2 / r_i)`` on smoothed proportions: the size of a
    chi-square difference, free of n (0.1 small, 0.3 medium, 0.5 large)."""
    r, c = smooth(p_ref), smooth(p_cur)
    return float(math.sqrt(float(np.sum((c - r) ** 2 / r))))


@register("chi2", kind="categorical", value_range=(0.0, math.inf), default_threshold=0.1,
          test="chi2_homogeneity", description="chi-square statistic of homogeneity; effect size Cohen's w")
def chi2(ref: CategoricalSummary, cur: CategoricalSummary) -> StatResult:
    """Pearson chi-square of homogeneity on the 2 x k table (categories + other / unseen /
    missing) of effective counts; value = statistic, p as scipy.stats.chi2_contingency with
    correction=False, effect size = Cohen's w."""
    return binned_result("chi2", "categorical", ref, cur, cohens_w, value=lambda r, c, stat: stat)


@register("cardinality", kind="categorical", value_range=(-1.0, math.inf), default_threshold=None,
          test=None, description="relative change in the number of distinct categories")
def cardinality(ref: CategoricalSummary, cur: CategoricalSummary) -> StatResult:
    """``distinct(current) / distinct(reference) - 1``; effect size its absolute value. Small
    windows see fewer distinct values than a large reference, hence no default threshold."""
    sizes = dict(n_reference=ref.rows, n_current=cur.rows,
                 n_eff_reference=ref.n_eff_all, n_eff_current=cur.n_eff_all)
    if ref.cardinality == 0:
        return insufficient("cardinality", "categorical", "reference has no non-missing value", **sizes)
    if cur.rows - cur.rows_missing == 0:
        return insufficient("cardinality", "categorical", "window has no non-missing value", **sizes)
    change = cur.cardinality / ref.cardinality - 1.0
    new = cur.new_categories()
    return StatResult(
        name="cardinality", kind="categorical", value=change, effect_size=abs(change), p_value=None,
        status=Status.ok, **sizes,
        details=MappingProxyType({
            "distinct_reference": ref.cardinality, "distinct_current": cur.cardinality,
            "new_categories": len(new), "exact": ref.values_complete and cur.values_complete,
        }),
    )
