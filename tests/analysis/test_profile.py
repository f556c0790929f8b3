"""Reference profiles: bins, JSON round trip, merging window profiles."""

import json

import numpy as np
import pytest

from analysis.drift import (
    REGISTRY, GridMismatchError, Profile, ProfileMismatchError, fit_categorical, fit_numeric, fit_profile,
)
from analysis.stats import InvalidWeightsError


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(11)
    n = 6000
    ref = {
        "amount": rng.lognormal(3, 1, n),
        "age": np.where(rng.random(n) < 0.1, np.nan, rng.normal(40, 12, n)),
        "country": np.array(["US", "DE", "FR", "BR", None], dtype=object)[rng.integers(0, 5, n)],
    }
    kinds = {"amount": "numeric", "age": "numeric", "country": "categorical"}
    hours = []
    for h in range(4):
        m = 1500
        hours.append({
            "amount": rng.lognormal(3 + 0.05 * h, 1, m),
            "age": np.where(rng.random(m) < 0.2, np.nan, rng.normal(41, 12, m)),
            "country": np.array(["US", "DE", "IN", None], dtype=object)[rng.integers(0, 4, m)],
        })
    return ref, kinds, hours, rng


def test_quantile_bins_with_open_ends_and_nan_bin(data):
    ref, kinds, _, _ = data
    age = fit_numeric(ref["age"], bins=10)
    assert age.bin_counts.size == 11  # ten deciles + missing
    assert age.bin_labels()[0].startswith("(-inf,") and age.bin_labels()[-2].endswith("+inf)")
    assert age.bin_labels()[-1] == "missing"
    assert age.missing == np.isnan(ref["age"]).sum()
    assert age.rows == ref["age"].size
    finite = ref["age"][~np.isnan(ref["age"])]
    assert age.mean == pytest.approx(finite.mean(), rel=1e-12)
    assert age.std == pytest.approx(finite.std(), rel=1e-9)
    assert (age.min, age.max) == (finite.min(), finite.max())


def test_heavy_ties_deduplicate_edges():
    x = np.concatenate([np.zeros(700), np.arange(1, 301, dtype=float)])
    s = fit_numeric(x, bins=10)
    # 70% zeros: one bin (-inf, 0] holds them all, then the remaining deciles
    assert s.bin_labels()[0] == "(-inf, 0]"
    assert s.bin_counts[0] == 700
    # deciles 0.1..0.7 are all 0, then 100 and 200: four bins and the missing bin
    assert s.bin_labels() == ["(-inf, 0]", "(0, 100]", "(100, 200]", "(200, +inf)", "missing"]
    np.testing.assert_array_equal(s.bin_counts, [700, 100, 100, 100, 0])


def test_small_references_keep_every_value():
    s = fit_numeric(np.array([1.0, 2.0, 2.0, 5.0]), sketch_size=200)
    np.testing.assert_array_equal(s.grid, [1.0, 2.0, 5.0])


def test_categorical_top_k_other_unseen_missing():
    ref = np.array(["a"] * 5 + ["b"] * 4 + ["c"] * 3 + ["d"] + [None] * 2, dtype=object)
    s = fit_categorical(ref, top_k=2)
    assert s.bin_labels() == ["a", "b", "other", "unseen", "missing"]
    np.testing.assert_array_equal(s.counts, [5, 4, 4, 0, 2])
    w = s.summarise(np.array(["a", "c", "z", "z", None, float("nan")], dtype=object))
    np.testing.assert_array_equal(w.counts, [1, 0, 1, 2, 2])
    assert w.new_categories() == {"z": 2.0}


def test_json_roundtrip_is_lossless(data):
    ref, kinds, hours, _ = data
    p = fit_profile(ref, kinds)
    text = p.to_json()
    json.loads(text)  # plain RFC 8259 JSON
    q = Profile.from_json(text)
    assert q.to_json() == text
    a, b = p.summarise(hours[0]), q.summarise(hours[0])
    for name in kinds:
        np.testing.assert_array_equal(a[name].bin_counts, b[name].bin_counts)


def test_hourly_profiles_merge_into_the_day_exactly(data):
    ref, kinds, hours, rng = data
    p = fit_profile(ref, kinds)
    weights = [rng.uniform(1, 5, len(h["age"])) for h in hours]
    merged = p.summarise(hours[0], weights[0])
    for h, w in zip(hours[1:], weights[1:]):
        merged = merged.merge(p.summarise(h, w))
    day = {k: np.concatenate([h[k] for h in hours]) for k in kinds}
    whole = p.summarise(day, np.concatenate(weights))
    for name in kinds:
        m, d = merged[name], whole[name]
        np.testing.assert_allclose(m.bin_counts, d.bin_counts, rtol=1e-12)
        assert m.rows == d.rows and m.n_eff_all == pytest.approx(d.n_eff_all, rel=1e-12)
        for stat in REGISTRY.statistics(m.kind):
            a, b = stat.compute(p[name], m), stat.compute(p[name], d)
            assert a.value == pytest.approx(b.value, rel=1e-9, abs=1e-12), (name, stat.name)
            assert a.p_value == pytest.approx(b.p_value, rel=1e-9, abs=1e-300), (name, stat.name)
    assert merged["age"].mean == pytest.approx(whole["age"].mean, rel=1e-12)
    assert merged["age"].std == pytest.approx(whole["age"].std, rel=1e-9)
    assert merged["country"].cardinality == whole["country"].cardinality


def test_merge_refuses_other_bins(data):
    ref, kinds, hours, _ = data
    a = fit_profile(ref, kinds)
    b = fit_profile({k: v[::2] for k, v in ref.items()}, kinds)
    with pytest.raises(GridMismatchError):
        a["age"].merge(b["age"])
    with pytest.raises(ProfileMismatchError):
        a.merge(fit_profile(ref, {"age": "numeric"}))


def test_bad_weights_and_missing_columns_raise(data):
    ref, kinds, hours, _ = data
    p = fit_profile(ref, kinds)
    with pytest.raises(InvalidWeightsError, match="-1.0"):
        p["age"].summarise(np.ones(3), np.array([1.0, -1.0, 1.0]))
    with pytest.raises(InvalidWeightsError, match="length"):
        p["age"].summarise(np.ones(3), np.ones(2))
    with pytest.raises(KeyError, match="country"):
        p.summarise({"amount": hours[0]["amount"], "age": hours[0]["age"]})
    with pytest.raises(ValueError, match="kind"):
        fit_profile(ref, {"age": "text"})


def test_window_summary_does_not_copy_finite_float64_input(data):
    ref, kinds, hours, _ = data
    p = fit_numeric(ref["amount"])
    x = hours[0]["amount"]
    before = x.copy()
    p.summarise(x)
    np.testing.assert_array_equal(x, before)  # input untouched


def test_feature_kinds_from_the_declared_schema():
    from analysis.drift import feature_kinds
    from config.monitors import Feature
    declared = [Feature(name="a", type="numeric"), Feature(name="b", type="categorical"),
                Feature(name="c", type="text")]
    assert feature_kinds(declared) == {"a": "numeric", "b": "categorical"}
