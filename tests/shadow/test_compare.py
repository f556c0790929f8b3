"""Comparison statistics against scipy and hand computation (pure, no database)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from config.slo import SloSpec
from shadow.compare import (
    agreement, latency_stats, per_row_latency, quantile_summary, rank_correlation, value_agreement,
)
from shadow.compare_paired import mcnemar, newcombe_paired, paired_abs_error, paired_accuracy
from shadow.compare_slo import quality_bad, would_be_burn


def objects(*values: str | None) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


@pytest.mark.parametrize("b, c", [(0, 1), (3, 12), (7, 7), (10, 14), (0, 24), (5, 0)])
def test_mcnemar_exact_is_the_two_sided_binomial_test(b: int, c: int) -> None:
    result = mcnemar(b, c)
    assert result.method == "exact"
    assert result.p_value == pytest.approx(stats.binomtest(min(b, c), b + c, 0.5).pvalue, abs=1e-12)


@pytest.mark.parametrize("b, c", [(12, 13), (30, 60), (100, 80), (400, 470)])
def test_mcnemar_chi_square_with_continuity_correction(b: int, c: int) -> None:
    result = mcnemar(b, c)
    statistic = (abs(b - c) - 1) ** 2 / (b + c)  # statsmodels mcnemar(exact=False, correction=True)
    assert result.method == "chi2_cc"
    assert result.statistic == pytest.approx(statistic)
    assert result.p_value == pytest.approx(stats.chi2.sf(statistic, 1))


def test_mcnemar_without_discordant_pairs_and_bad_counts() -> None:
    assert mcnemar(0, 0).p_value == 1.0
    with pytest.raises(ValueError, match="b=-1"):
        mcnemar(-1, 3)


def test_newcombe_interval_matches_the_published_example() -> None:
    # Newcombe (1998), Stat Med 17:2635, Table II example (a): 36, 12, 2, 0 -> method 10
    # gives 0.0569 to 0.3404 for a difference of +0.2. Here the difference is candidate -
    # production with b = 12 production-only correct, so the same interval, negated.
    lower, upper = newcombe_paired(36, 12, 2, 0)
    assert (lower, upper) == (pytest.approx(-0.3404, abs=1e-4), pytest.approx(-0.0569, abs=1e-4))


def test_newcombe_interval_approaches_wald_at_large_n() -> None:
    a, b, c, d = 60_000, 3_000, 3_600, 13_400
    n = a + b + c + d
    delta = (c - b) / n
    se = math.sqrt((b + c) / n - delta ** 2) / math.sqrt(n)
    lower, upper = newcombe_paired(a, b, c, d)
    assert lower == pytest.approx(delta - 1.959964 * se, abs=2e-4)
    assert upper == pytest.approx(delta + 1.959964 * se, abs=2e-4)


def test_newcombe_interval_covers_the_true_difference_about_95_percent() -> None:
    rng = np.random.default_rng(3)
    cells = np.array([0.70, 0.06, 0.09, 0.15])  # both right, prod only, cand only, both wrong
    truth = cells[2] - cells[1]
    draws = rng.multinomial(150, cells, size=2000)
    covered = sum(lo <= truth <= hi for lo, hi in (newcombe_paired(*map(int, row)) for row in draws))
    assert 0.93 <= covered / 2000 <= 0.975


def test_paired_accuracy_counts_by_hand() -> None:
    prod = np.array([1, 1, 1, 0, 0, 1, 0, 1], dtype=bool)
    cand = np.array([1, 0, 1, 1, 1, 1, 0, 1], dtype=bool)
    result = paired_accuracy(prod, cand)
    assert (result.test.b, result.test.c) == (1, 2)
    assert result.production == 5 / 8 and result.candidate == 6 / 8
    assert result.difference == pytest.approx(1 / 8)
    assert result.lower < result.difference < result.upper
    assert result.test.p_value == pytest.approx(1.0)  # 1 vs 2 discordant: nothing to see


def test_paired_abs_error_is_wilcoxon_with_a_normal_interval() -> None:
    rng = np.random.default_rng(0)
    prod = np.abs(rng.normal(0, 1.0, 300))
    cand = np.abs(rng.normal(0, 0.8, 300))
    result = paired_abs_error(prod, cand)
    d = cand - prod
    assert result.p_value == pytest.approx(stats.wilcoxon(d).pvalue)
    assert result.difference == pytest.approx(d.mean())
    half = 1.959964 * d.std(ddof=1) / math.sqrt(d.size)
    assert (result.lower, result.upper) == (pytest.approx(d.mean() - half, rel=1e-5), pytest.approx(d.mean() + half, rel=1e-5))
    same = paired_abs_error(prod, prod.copy())
    assert same.p_value == 1.0 and same.difference == 0.0


def test_rank_correlation_is_spearman_and_nan_without_a_ranking() -> None:
    rng = np.random.default_rng(1)
    a = rng.random(50)
    b = a + rng.normal(0, 0.2, 50)
    b[3] = np.nan
    keep = ~np.isnan(b)
    assert rank_correlation(a, b) == pytest.approx(stats.spearmanr(a[keep], b[keep]).statistic)
    assert math.isnan(rank_correlation(a, np.full(50, 0.5)))
    assert math.isnan(rank_correlation(a[:2], b[:2]))


def test_agreement_flips_and_value_agreement() -> None:
    prod = objects("1", "0", "1", "1", None, "0")
    cand = objects("1", "1", "0", "1", "1", "1")
    result = agreement(prod, cand)
    assert (result.n, result.agreement) == (5, 0.4)
    assert result.flip_rate == pytest.approx(0.6)
    assert result.flips == (("0", "1", 2), ("1", "0", 1))
    values = value_agreement(np.array([1.0, 2.0, np.nan, 4.0]), np.array([1.05, 2.5, 3.0, 4.0]), 0.1)
    assert (values.n, values.agreement) == (3, pytest.approx(2 / 3))


def test_quantiles_and_latency_follow_numpy() -> None:
    rng = np.random.default_rng(2)
    deltas = rng.normal(size=1000)
    summary = quantile_summary(np.append(deltas, np.nan))
    assert summary.n == 1000
    assert summary.at(0.99) == pytest.approx(np.quantile(deltas, 0.99))
    assert summary.max_abs == pytest.approx(np.abs(deltas).max())
    per_row = per_row_latency(np.array([8.0, 8.0, 1.0, 0.0]), np.array([4, 4, 1, 0]))
    np.testing.assert_array_equal(per_row[:3], [2.0, 2.0, 1.0])
    assert math.isnan(per_row[3])
    lat = latency_stats(per_row)
    assert (lat.n, lat.p50, lat.p99) == (3, 2.0, pytest.approx(np.percentile([2.0, 2.0, 1.0], 99)))


def test_would_be_burn_by_hand() -> None:
    spec = SloSpec.model_validate({"name": "accuracy", "kind": "quality", "objective": 0.9})
    truth = objects("1", "0", "1", "1", "0")
    prod = quality_bad(spec, False, truth, np.full(5, np.nan), objects("1", "0", "0", "1", "0"), np.full(5, np.nan))
    cand = quality_bad(spec, False, truth, np.full(5, np.nan), objects("0", "1", "0", "1", "0"), np.full(5, np.nan))
    weight = np.array([1.0, 1.0, 2.0, 1.0, 1.0])
    burn = would_be_burn(spec, weight, prod, cand)
    assert (burn.events, burn.bad_production, burn.bad_candidate) == (6.0, 2.0, 4.0)
    assert burn.burn_production == pytest.approx((2 / 6) / 0.1)
    assert burn.burn_candidate == pytest.approx((4 / 6) / 0.1)
    tolerant = SloSpec.model_validate({"name": "mae", "kind": "quality", "objective": 0.9, "tolerance": 0.5})
    bad = quality_bad(tolerant, True, objects(None, None), np.array([1.0, 1.0]), objects(None, None),
                      np.array([1.4, np.nan]))
    assert bad.tolist() == [False, True]
    assert quality_bad(SloSpec.model_validate({"name": "q", "kind": "quality", "objective": 0.9}), True,
                       truth, np.zeros(5), truth, np.zeros(5)) is None
