"""The same checks over every registered statistic (river's check_estimator, for drift)."""

import math
from pathlib import Path

import numpy as np
import pytest

from analysis.drift import REGISTRY, Profile, Status, fit_categorical, fit_numeric
from analysis.drift.registry import StatResult

NUMERIC = REGISTRY.statistics("numeric")
CATEGORICAL = REGISTRY.statistics("categorical")
NAN = np.nan


def numeric_cases():
    rng = np.random.default_rng(0)
    normal = rng.normal(size=500)
    return {
        "empty window": (normal, np.array([])),
        "all-NaN window": (normal, np.full(300, NAN)),
        "all-NaN reference": (np.full(300, NAN), normal),
        "empty reference": (np.array([]), normal),
        "single value": (normal, np.array([0.5])),
        "constant both, equal": (np.full(400, 3.0), np.full(300, 3.0)),
        "constant both, different": (np.full(400, 3.0), np.full(300, 4.0)),
        "constant reference": (np.full(400, 3.0), normal),
        "infinities are missing": (normal, np.array([np.inf, -np.inf, 0.1, 0.2])),
        "huge offset": (1e12 + normal, 1e12 + normal[::-1]),
        "identical": (normal, normal.copy()),
    }


def categorical_cases():
    rng = np.random.default_rng(1)
    cats = np.array(["a", "b", "c"], dtype=object)[rng.integers(0, 3, 400)]
    return {
        "empty window": (cats, np.array([], dtype=object)),
        "all-missing window": (cats, np.array([None, np.nan, None], dtype=object)),
        "all-missing reference": (np.array([None] * 10, dtype=object), cats),
        "single value": (cats, np.array(["a"], dtype=object)),
        "constant both": (np.array(["a"] * 50, dtype=object), np.array(["a"] * 20, dtype=object)),
        "only unseen": (cats, np.array(["x", "y", "y"], dtype=object)),
        "ints as categories": (np.array([1, 2, 2, 3]), np.array(["1", "2", "4"], dtype=object)),
        "identical": (cats, cats.copy()),
    }


def check_result(result: StatResult, name: str, kind: str) -> None:
    assert isinstance(result, StatResult)
    assert (result.name, result.kind) == (name, kind)
    assert isinstance(result.status, Status)
    stat = REGISTRY.get(name, kind)
    if result.status is Status.ok:
        assert not math.isnan(result.value), "an ok result has a value"
        lo, hi = stat.value_range
        assert lo <= result.value <= hi
        assert result.effect_size >= 0
        if stat.test is None:
            assert result.p_value is None
        else:
            assert 0.0 <= result.p_value <= 1.0
    else:
        assert math.isnan(result.value) and math.isnan(result.effect_size), "never a misleading 0"
        assert result.p_value is None
        assert result.details["reason"]
    assert result.n_reference >= 0 and result.n_current >= 0
    result.to_dict()  # serialisable


@pytest.mark.parametrize("stat", NUMERIC, ids=lambda s: s.name)
@pytest.mark.parametrize("case", list(numeric_cases()))
def test_numeric_statistic_never_crashes(stat, case):
    ref, cur = numeric_cases()[case]
    r = fit_numeric(ref)
    for weights in (None, np.linspace(0.5, 2.0, cur.size)):
        check_result(stat.compute(r, r.summarise(cur, weights)), stat.name, "numeric")


@pytest.mark.parametrize("stat", CATEGORICAL, ids=lambda s: s.name)
@pytest.mark.parametrize("case", list(categorical_cases()))
def test_categorical_statistic_never_crashes(stat, case):
    ref, cur = categorical_cases()[case]
    r = fit_categorical(ref, top_k=2)
    for weights in (None, np.linspace(0.5, 2.0, cur.size)):
        check_result(stat.compute(r, r.summarise(cur, weights)), stat.name, "categorical")


@pytest.mark.parametrize("stat", REGISTRY.statistics(), ids=lambda s: f"{s.kind}-{s.name}")
def test_identical_data_shows_no_drift(stat):
    rng = np.random.default_rng(2)
    if stat.kind == "numeric":
        data = rng.normal(size=2000)
        r = fit_numeric(data)
    else:
        data = np.array(["a", "b", "c", None], dtype=object)[rng.integers(0, 4, 2000)]
        r = fit_categorical(data)
    result = stat.compute(r, r.summarise(data))
    assert result.ok and result.effect_size == pytest.approx(0.0, abs=1e-12)
    if result.p_value is not None:
        assert result.p_value > 0.99


@pytest.mark.parametrize("stat", REGISTRY.statistics(), ids=lambda s: f"{s.kind}-{s.name}")
def test_integer_weights_equal_repeated_rows(stat):
    rng = np.random.default_rng(3)
    if stat.kind == "numeric":
        ref, cur = rng.normal(size=800), rng.normal(0.3, size=300)
        cur[::17] = np.nan
        r = fit_numeric(ref)
    else:
        ref = np.array(list("abcd"), dtype=object)[rng.integers(0, 4, 800)]
        cur = np.array(list("abcde"), dtype=object)[rng.integers(0, 5, 300)]
        r = fit_categorical(ref, top_k=2)
    w = rng.integers(1, 4, size=cur.size).astype(float)
    weighted = stat.compute(r, r.summarise(cur, w))
    repeated = stat.compute(r, r.summarise(np.repeat(cur, w.astype(int))))
    # the effect size is the same; the evidence (n_eff, so chi2's statistic and p) is not
    assert weighted.effect_size == pytest.approx(repeated.effect_size, rel=1e-9, abs=1e-12)
    assert weighted.n_eff_current < repeated.n_eff_current


def test_every_statistic_is_documented():
    text = (Path(__file__).parents[2] / "docs" / "statistics.md").read_text()
    for stat in REGISTRY.statistics():
        assert f"`{stat.name}`" in text, stat.name


def test_window_profile_roundtrip_keeps_every_result():
    rng = np.random.default_rng(4)
    ref = {"x": rng.normal(size=500), "k": np.array(list("abc"), dtype=object)[rng.integers(0, 3, 500)]}
    cur = {"x": rng.normal(0.2, size=300), "k": np.array(list("abd"), dtype=object)[rng.integers(0, 3, 300)]}
    from analysis.drift import fit_profile
    reference = fit_profile(ref, {"x": "numeric", "k": "categorical"})
    reference2 = Profile.from_json(reference.to_json())
    window = reference.summarise(cur)
    window2 = Profile.from_json(window.to_json())
    for stat in REGISTRY.statistics():
        name = "x" if stat.kind == "numeric" else "k"
        a = stat.compute(reference[name], window[name])
        b = stat.compute(reference2[name], window2[name])
        assert a.value == pytest.approx(b.value, rel=1e-12) and a.p_value == b.p_value
