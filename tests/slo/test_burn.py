"""Burn-rate arithmetic against hand-computed values."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pytest
from scipy import stats

from analysis.slo import (
    burn_rate,
    error_budget_remaining,
    error_ratio,
    max_possible_burn,
    time_to_exhaustion,
    wilson_lower_bound,
)
from analysis.slo.burn import z_one_sided


def test_error_ratio_and_no_data() -> None:
    assert error_ratio(5, 1000) == 0.005
    assert math.isnan(error_ratio(0, 0))
    with pytest.raises(ValueError, match="bad=3, total=2"):
        error_ratio(3, 2)


def test_burn_rate_is_ratio_over_allowance() -> None:
    assert burn_rate(0.0144, 0.999) == pytest.approx(14.4)
    assert burn_rate(0.001, 0.999) == pytest.approx(1.0)
    assert math.isnan(burn_rate(math.nan, 0.99))
    with pytest.raises(ValueError, match="objective"):
        burn_rate(0.1, 1.0)


def test_max_possible_burn() -> None:
    assert max_possible_burn(0.9) == pytest.approx(10.0)
    assert max_possible_burn(0.999) == pytest.approx(1000.0)


def test_error_budget_remaining_can_go_negative() -> None:
    assert error_budget_remaining(0, 1000, 0.99) == 1.0
    assert error_budget_remaining(5, 1000, 0.99) == pytest.approx(0.5)
    assert error_budget_remaining(20, 1000, 0.99) == pytest.approx(-1.0)
    assert math.isnan(error_budget_remaining(0, 0, 0.99))


def test_time_to_exhaustion() -> None:
    window = timedelta(days=30)
    # Half the budget left at 10x: the whole budget lasts 3 days at 10x, half of it 1.5 days.
    assert time_to_exhaustion(0.5, 10.0, window) == timedelta(days=1.5)
    assert time_to_exhaustion(-0.2, 10.0, window) == timedelta(0)
    assert time_to_exhaustion(0.5, 0.0, window) is None
    assert time_to_exhaustion(math.nan, 1.0, window) is None


def test_wilson_lower_bound_matches_formula_and_limits() -> None:
    z = stats.norm.ppf(0.95)
    assert z_one_sided(0.95) == pytest.approx(z)
    p, n = 0.1, 10
    expected = (p + z * z / (2 * n) - z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))) / (1 + z * z / n)
    assert float(wilson_lower_bound(1, 10)) == pytest.approx(expected)
    assert float(wilson_lower_bound(1, 10)) == pytest.approx(0.0227, abs=1e-4)
    # Converges on the raw ratio at high counts; 0 errors gives 0; no events gives NaN.
    assert float(wilson_lower_bound(10_000, 1_000_000)) == pytest.approx(0.01, rel=0.02)
    assert float(wilson_lower_bound(0, 50)) == 0.0
    assert math.isnan(float(wilson_lower_bound(0, 0)))
    bounds = wilson_lower_bound(np.array([1, 5, 0]), np.array([10, 5, 0]))
    assert bounds.shape == (3,) and bounds[1] < 1.0 and math.isnan(bounds[2])
