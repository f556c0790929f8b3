"""Latency from the counter histograms (pure): percentiles on shared bounds, and the p99 tail
test's level and power on simulated requests."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.canary import VersionCounters
from analysis.canary.traffic import compare_latency
from modelwatch.counters import DEFAULT_BOUNDS_MS

BOUNDS = tuple(float(b) for b in DEFAULT_BOUNDS_MS)


def counted(version: str, latency_ms: np.ndarray, bounds: tuple[float, ...] = BOUNDS) -> VersionCounters:
    """Requests counted the way the SDK counts them: bucket i holds (bounds[i-1], bounds[i]]."""
    buckets = np.bincount(np.searchsorted(bounds, latency_ms, side="left"), minlength=len(bounds) + 1)
    return VersionCounters(version, latency_ms.shape[0], 0, float(latency_ms.sum()), bounds, buckets.astype(float))


def tail_p_values(rng: np.random.Generator, slower: float, runs: int) -> np.ndarray:
    return np.array([compare_latency(counted("v1", rng.gamma(4.0, 5.0, 1500)),
                                     counted("v2", rng.gamma(4.0, 5.0 * slower, 1500))).tail.p_value
                     for _ in range(runs)])


def test_the_tail_test_keeps_its_level_and_finds_a_slower_canary() -> None:
    rng = np.random.default_rng(11)
    alike = tail_p_values(rng, 1.0, 400)
    assert np.mean(alike < 0.05) <= 0.065  # two draws of one distribution: ~alpha, not more
    slower = tail_p_values(rng, 1.2, 200)  # every request 20% slower
    assert np.mean(slower < 0.05) >= 0.95


def test_the_tail_bound_is_the_lower_bound_of_the_pooled_p99_bucket() -> None:
    fast = np.full(1000, 20.0)  # (10, 25]
    slow = np.concatenate([np.full(950, 20.0), np.full(50, 300.0)])  # 5% in (250, 500]
    result = compare_latency(counted("v1", fast), counted("v2", slow))
    assert result.tail_bound_ms == 250.0  # pooled: 2.5% above 250 ms, so the p99 is in (250, 500]
    assert (result.tail.a, result.tail.b) == (0.0, 0.05)
    assert result.stable.p99 == pytest.approx(24.85) and result.canary.p99 == pytest.approx(450.0)
    assert result.distribution.superiority > 0.5


def test_histograms_on_different_bounds_compare_on_the_bounds_they_share() -> None:
    latency = np.random.default_rng(2).gamma(4.0, 5.0, 2000)
    result = compare_latency(counted("v1", latency), counted("v2", latency, (10.0, 50.0, 100.0, 1000.0)))
    assert result.bounds_ms == (10.0, 50.0, 100.0, 1000.0)
    assert result.stable.p99 == result.canary.p99 and result.stable.n == result.canary.n == 2000
    assert result.tail.p_value == 1.0 and result.distribution.p_value == 1.0


def test_without_a_latency_histogram_nothing_is_tested() -> None:
    empty = VersionCounters("v2", 100, 0, 0.0, BOUNDS, np.zeros(len(BOUNDS) + 1))
    result = compare_latency(counted("v1", np.full(100, 3.0)), empty)
    assert result.tail is None and np.isnan(result.canary.p99) and np.isnan(result.p99_change)
