"""compute_drift end to end, and the false-alarm / power simulations (small versions; the full
n = 1,000,000 simulation is in bench/drift.py)."""

import numpy as np
import pytest

from analysis.drift import fit_profile
from analysis.drift.decision import DecisionStatus
from analysis.drift.engine import compute_drift, compute_drift_profiles
from analysis.stats.policy import AnalysisPolicy

CATS = np.array(["web", "ios", "android", "other"], dtype=object)
P_CATS = [0.5, 0.3, 0.15, 0.05]
KINDS = {"a": "numeric", "b": "numeric", "c": "numeric", "k": "categorical", "m": "categorical"}


def window(rng, n, shift=0.0, p_cats=P_CATS):
    return {
        "a": rng.normal(shift, 1.0, n),
        "b": rng.exponential(2.0, n),
        "c": np.where(rng.random(n) < 0.05, np.nan, rng.normal(100, 15, n)),
        "k": CATS[rng.choice(4, n, p=p_cats)],
        "m": np.where(rng.random(n) < 0.1, None, CATS[rng.choice(4, n, p=P_CATS)]),
    }


@pytest.fixture(scope="module")
def reference():
    rng = np.random.default_rng(100)
    return fit_profile(window(rng, 100_000), KINDS)


def test_report_flags_the_moved_features_only(reference):
    rng = np.random.default_rng(1)
    cur = window(rng, 20_000, shift=0.3, p_cats=[0.3, 0.3, 0.2, 0.2])
    report = compute_drift(reference, cur)
    assert {f.feature for f in report.drifted} == {"a", "k"}
    a = report.get("a")
    assert a.method == "wasserstein_norm" and a.drift
    assert set(a.results) == {"psi", "kl", "jensen_shannon", "hellinger", "ks", "wasserstein", "wasserstein_norm"}
    assert a.decision.p_adjusted is not None
    assert report.get("b").decision.status is DecisionStatus.no_drift
    assert report.get("a").decisions["wasserstein"].status is DecisionStatus.not_evaluated
    assert set(report.get("k").results) == {"psi", "kl", "jensen_shannon", "hellinger", "chi2", "cardinality"}


def test_small_windows_are_insufficient_not_drift(reference):
    rng = np.random.default_rng(2)
    report = compute_drift(reference, window(rng, 40, shift=3.0))
    assert not report.drift
    assert report.get("a").decision.status is DecisionStatus.insufficient_data


def test_policy_overrides_apply(reference):
    rng = np.random.default_rng(3)
    policy = AnalysisPolicy.model_validate({
        "drift": {"statistics": ["psi"]},
        "features": {"a": {"method": "ks", "thresholds": {"ks": 0.5}}, "m": {"drift": False}},
    })
    report = compute_drift(reference, window(rng, 20_000, shift=0.3), policy=policy)
    assert {f.feature for f in report.features} == {"a", "b", "c", "k"}
    assert set(report.get("a").results) == {"ks", "psi"}
    assert not report.get("a").drift  # D ~ 0.12 < 0.5


def test_segments_share_one_fdr_family(reference):
    rng = np.random.default_rng(4)
    windows = {"": reference.summarise(window(rng, 5000)),
               "channel=web": reference.summarise(window(rng, 3000, shift=0.5))}
    report = compute_drift_profiles(reference, windows)
    assert len(report.features) == 10
    assert report.get("a", "channel=web").drift and not report.get("a").drift
    adjusted = [f.decision.p_adjusted for f in report.features]
    raw = [f.decision.p_value for f in report.features]
    assert all(q >= p for p, q in zip(raw, adjusted))


def test_merged_hours_give_the_days_decisions(reference):
    rng = np.random.default_rng(5)
    hours = [window(rng, 3000, shift=0.2) for _ in range(4)]
    merged = reference.summarise(hours[0])
    for h in hours[1:]:
        merged = merged.merge(reference.summarise(h))
    day = {k: np.concatenate([h[k] for h in hours]) for k in KINDS}
    a = compute_drift_profiles(reference, {"": merged})
    b = compute_drift(reference, day)
    for fa, fb in zip(a.features, b.features):
        assert fa.decision.status is fb.decision.status
        assert fa.decision.effect_size == pytest.approx(fb.decision.effect_size, rel=1e-9)


def test_false_alarms_at_large_n(reference):
    """No drift, n = 100,000 per window (bench/drift.py runs 1,000 windows at 1,000,000):
    every p-value is small at this n, yet no window may alert beyond 1%."""
    rng = np.random.default_rng(6)
    windows = 60
    alerts = sum(compute_drift(reference, window(rng, 100_000)).drift for _ in range(windows))
    assert alerts / windows <= 0.01


def test_detects_a_tenth_of_a_std_shift_at_10k(reference):
    rng = np.random.default_rng(7)
    windows = 150
    hits = sum(compute_drift(reference, window(rng, 10_000, shift=0.1)).get("a").drift for _ in range(windows))
    assert hits / windows >= 0.95


def test_a_newly_registered_statistic_is_computed_and_decided():
    from types import MappingProxyType

    from analysis.drift import REGISTRY, Registry, StatResult, Status
    registry = Registry()  # the test's own registry; the service's stays untouched
    builtin = REGISTRY.get("wasserstein_norm", "numeric")
    registry.register("wasserstein_norm", kind="numeric", value_range=builtin.value_range,
                      default_threshold=builtin.default_threshold, test="ks", description="")(builtin.compute)

    @registry.register("mean_shift", kind="numeric", value_range=(0, float("inf")), default_threshold=0.5,
                       test=None, description="|mean difference| in reference stds")
    def mean_shift(ref, cur):
        value = abs(cur.mean - ref.mean) / ref.std
        return StatResult("mean_shift", "numeric", value, value, None, Status.ok, ref.rows, cur.rows,
                          ref.n_eff, cur.n_eff, MappingProxyType({}))

    rng = np.random.default_rng(8)
    reference = fit_profile({"a": rng.normal(size=5000)}, {"a": "numeric"})
    report = compute_drift(reference, {"a": rng.normal(1.0, size=2000)}, registry=registry)
    feature = report.get("a")
    assert set(feature.results) == {"mean_shift", "wasserstein_norm"}
    assert feature.decisions["mean_shift"].status is DecisionStatus.drift
    assert "mean_shift" not in REGISTRY.names()
