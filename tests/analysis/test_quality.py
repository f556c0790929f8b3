"""Data-quality checks as typed findings."""

import math

import numpy as np
import pytest

from analysis.drift import fit_categorical, fit_numeric, fit_profile
from analysis.quality import (
    QualityStatus, check_quality, missing_rate_change, new_categories, out_of_range, type_violations, volume_drop,
)
from config.monitors import Feature


def test_type_violations_numeric_and_categorical():
    values = np.array([1.5, "2", None, float("nan"), True, float("inf"), 7], dtype=object)
    f = type_violations("amount", values, "numeric")
    assert f.status is QualityStatus.violation and f.count == 3  # "2", True, inf
    assert f.details["example_rows"] == [1, 4, 5]
    cats = np.array(["a", 3, 2.0, 2.5, None, ["x"]], dtype=object)
    g = type_violations("country", cats, "categorical")
    assert g.count == 2 and g.details["example_rows"] == [3, 5]
    assert type_violations("x", np.array([1.0, 2.0]), "numeric").status is QualityStatus.ok
    assert type_violations("x", np.array([1.0, np.inf]), "numeric").count == 1


def test_out_of_range_is_a_weighted_rate_of_finite_values():
    x = np.array([-1.0, 0.0, 5.0, 10.0, 11.0, np.nan])
    f = out_of_range("age", x, 0, 10, weights=np.array([2.0, 1, 1, 1, 4, 9]))
    assert f.count == 6 and f.value == pytest.approx(6 / 9)
    assert f.details["below"] == 1 and f.details["above"] == 1
    assert out_of_range("age", x, -5, 20).status is QualityStatus.ok
    assert out_of_range("age", np.array([np.nan]), 0, 1).status is QualityStatus.insufficient_data


def test_missing_rate_change_needs_size_significance_and_n():
    rng = np.random.default_rng(0)
    ref = fit_numeric(np.where(rng.random(10_000) < 0.02, np.nan, 1.0))
    bigger = ref.summarise(np.where(rng.random(5000) < 0.10, np.nan, 1.0))
    f = missing_rate_change("x", ref, bigger)
    assert f.status is QualityStatus.violation and f.value == pytest.approx(0.08, abs=0.01) and f.p_value < 1e-6
    slight = ref.summarise(np.where(rng.random(1_000_000) < 0.03, np.nan, 1.0))
    assert missing_rate_change("x", ref, slight).status is QualityStatus.ok  # significant but small
    few = ref.summarise(np.array([np.nan] * 10 + [1.0] * 10))
    assert missing_rate_change("x", ref, few).status is QualityStatus.insufficient_data


def test_new_categories_against_reference_and_declaration():
    ref = fit_categorical(np.array(["US", "DE", "FR"] * 100, dtype=object))
    cur = ref.summarise(np.array(["US", "BR", "BR", "IT", None], dtype=object))
    f = new_categories("country", ref, cur, declared=["US", "DE", "FR", "BR"])
    assert f.status is QualityStatus.violation
    assert f.details["not_in_reference"] == ["BR", "IT"] and f.details["not_declared"] == ["IT"]
    assert f.value == pytest.approx(3 / 4)
    assert list(f.details["categories"]) == ["BR", "IT"]  # by weight
    ok = new_categories("country", ref, ref.summarise(np.array(["US"], dtype=object)))
    assert ok.status is QualityStatus.ok and ok.value == 0


def test_volume_drop():
    assert volume_drop(400, 1000).status is QualityStatus.violation
    assert volume_drop(600, 1000).status is QualityStatus.ok
    assert volume_drop(2, 6).status is QualityStatus.ok  # a 67% drop, but 2 vs 6 is chance (p = 0.06)
    assert volume_drop(0, 0).status is QualityStatus.insufficient_data
    assert math.isclose(volume_drop(400, 1000).value, 0.4)


def test_check_quality_from_the_declared_schema():
    features = (
        Feature(name="amount", type="numeric", range=(0, 100), nullable=False),
        Feature(name="country", type="categorical", categories=("US", "DE")),
        Feature(name="note", type="text"),
        Feature(name="absent", type="numeric"),
    )
    rng = np.random.default_rng(1)
    ref = fit_profile({"amount": rng.uniform(0, 100, 2000),
                       "country": np.array(["US", "DE"] * 1000, dtype=object)},
                      {"amount": "numeric", "country": "categorical"})
    cur = {"amount": np.array([5.0, 500.0, np.nan] * 100),
           "country": np.array(["US", "FR", "DE"] * 100, dtype=object),
           "note": np.array(["x"] * 300, dtype=object)}
    report = check_quality(ref, cur, features, expected_rows=1000)
    kinds = {(f.check, f.feature): f.status for f in report.findings}
    assert kinds[("range", "amount")] is QualityStatus.violation
    assert kinds[("not_null", "amount")] is QualityStatus.violation
    assert kinds[("missing_rate", "amount")] is QualityStatus.violation
    assert kinds[("new_categories", "country")] is QualityStatus.violation
    assert kinds[("type", "absent")] is QualityStatus.ok  # a column missing entirely is all missing
    assert kinds[("volume", None)] is QualityStatus.violation
    assert ("type", "note") not in kinds
    assert {f.check for f in report.violations} >= {"range", "volume"}
    assert report.get("volume").to_dict()["value"] == pytest.approx(0.3)
