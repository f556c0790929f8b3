"""The statistics the canary comparison stands on, against scipy, a published example and
hand computation (pure, no database)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from analysis.stats.histogram import coarsen, histogram_quantile
from analysis.stats.intervals import newcombe_interval
from analysis.stats.proportions import compare_proportions
from analysis.stats.ranks import mann_whitney_grouped


def test_newcombe_unpaired_interval_matches_the_published_example() -> None:
    # Newcombe (1998), Stat Med 17:873, Table II example (a): 56/70 vs 48/80 -> method 10 gives
    # 0.0524 to 0.3339 for a difference of +0.2.
    interval = newcombe_interval(56 / 70, 70, 48 / 80, 80)
    assert (interval.lower, interval.upper) == (pytest.approx(0.0524, abs=1e-4), pytest.approx(0.3339, abs=1e-4))
    assert np.isnan(newcombe_interval(0.5, 0, 0.5, 10).lower)


@pytest.mark.parametrize("k_a, n_a, k_b, n_b", [(20, 2000, 122, 2000), (400, 1000, 380, 1000), (50, 5000, 51, 4000)])
def test_pooled_z_test_is_the_chi_square_test_without_correction(k_a: int, n_a: int, k_b: int, n_b: int) -> None:
    result = compare_proportions(k_a / n_a, n_a, k_b / n_b, n_b)
    expected = stats.chi2_contingency([[k_a, n_a - k_a], [k_b, n_b - k_b]], correction=False).pvalue
    assert result.method == "z_pooled"
    assert result.p_value == pytest.approx(expected, rel=1e-9)
    assert result.difference == pytest.approx(k_b / n_b - k_a / n_a)
    assert result.lower < result.difference < result.upper


def test_small_expected_counts_use_fishers_exact_test() -> None:
    result = compare_proportions(0 / 40, 40, 4 / 40, 40)
    assert result.method == "fisher_exact"
    assert result.p_value == pytest.approx(stats.fisher_exact([[0, 40], [4, 36]]).pvalue)


def test_proportions_edge_cases() -> None:
    assert compare_proportions(0.0, 1000, 0.0, 1000).p_value == 1.0  # no error on either side
    empty = compare_proportions(0.1, 0, 0.2, 100)
    assert empty.method == "none" and np.isnan(empty.p_value) and empty.to_dict()["p_value"] is None
    with pytest.raises(ValueError, match="proportion b"):
        compare_proportions(0.1, 10, 1.5, 10)
    with pytest.raises(ValueError, match="n_a=-1"):
        compare_proportions(0.1, -1, 0.1, 10)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_grouped_mann_whitney_equals_scipy_on_the_expanded_values(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 60, size=8).astype(float)
    b = rng.integers(0, 60, size=8).astype(float)
    b[rng.integers(0, 8)] = 0  # an empty bucket on one side
    values = np.arange(8, dtype=float)
    result = mann_whitney_grouped(a, b)
    expected = stats.mannwhitneyu(np.repeat(values, b.astype(int)), np.repeat(values, a.astype(int)),
                                  method="asymptotic", use_continuity=True)
    assert result.u == pytest.approx(expected.statistic)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-9)
    assert result.superiority == pytest.approx(expected.statistic / (a.sum() * b.sum()))


def test_grouped_mann_whitney_direction_and_degenerate_inputs() -> None:
    slower = mann_whitney_grouped(np.array([50, 30, 20, 0]), np.array([10, 20, 30, 40]))
    assert slower.superiority > 0.5 and slower.z > 0 and slower.p_value < 1e-6
    tied = mann_whitney_grouped(np.array([0, 9, 0]), np.array([0, 4, 0]))
    assert (tied.superiority, tied.p_value) == (0.5, 1.0)
    assert np.isnan(mann_whitney_grouped(np.zeros(3), np.ones(3)).p_value)
    with pytest.raises(ValueError, match="3 and 2 buckets"):
        mann_whitney_grouped(np.ones(3), np.ones(2))


def test_coarsen_sums_the_fine_buckets_inside_each_coarse_one() -> None:
    bounds = (5.0, 10.0, 25.0, 50.0)
    counts = np.array([1, 2, 3, 4, 5])
    assert coarsen(bounds, counts, (10.0, 50.0)).tolist() == [3, 7, 5]
    assert coarsen(bounds, counts, ()).tolist() == [15]
    assert coarsen(bounds, counts, bounds).tolist() == counts.tolist()
    # a quantile that falls on a shared bound is the same on either histogram
    assert float(histogram_quantile(0.2, (10.0, 50.0), coarsen(bounds, counts, (10.0, 50.0)))) == pytest.approx(10.0)
    with pytest.raises(ValueError, match=r"\[7.0\]"):
        coarsen(bounds, counts, (7.0,))
