"""Decisions, Benjamini-Hochberg, and the typed policy."""

import math
from types import MappingProxyType

import numpy as np
import pytest
from pydantic import ValidationError
from scipy import stats

from analysis.drift.decision import DecisionRule, DecisionStatus, decide
from analysis.drift.registry import StatResult, Status
from analysis.stats import benjamini_hochberg
from analysis.stats.policy import AnalysisPolicy


def result(effect=0.3, p=0.001, n=1000.0, status=Status.ok, name="psi"):
    return StatResult(name, "numeric", effect, effect, p, status, int(n), int(n), n, n,
                      MappingProxyType({"reason": "window has no rows"} if status is not Status.ok else {}))


@pytest.mark.parametrize("effect, p, n, expected", [
    (0.3, 0.001, 1000, DecisionStatus.drift),
    (0.1, 1e-300, 1e6, DecisionStatus.no_drift),  # tiny effect at huge n stays quiet
    (0.9, 0.2, 1000, DecisionStatus.no_drift),  # big but not significant
    (0.9, 1e-9, 50, DecisionStatus.insufficient_data),  # too few rows
    (0.3, None, 1000, DecisionStatus.drift),  # no test: effect size and n decide
    (0.2, 0.04, 1000, DecisionStatus.drift),  # boundaries are inclusive
])
def test_decide_needs_effect_and_significance_and_n(effect, p, n, expected):
    d = decide(result(effect, p, n), DecisionRule(threshold=0.2, alpha=0.05, min_n=100))
    assert d.status is expected
    assert d.drift is (expected is DecisionStatus.drift)
    assert d.reason


def test_decide_uses_adjusted_p_and_reports_both():
    d = decide(result(0.3, 0.01), DecisionRule(0.2), p_adjusted=0.2)
    assert d.status is DecisionStatus.no_drift and d.p_value == 0.01 and d.p_adjusted == 0.2


def test_decide_on_uncomputable_or_informational():
    bad = result(math.nan, None, 0, Status.insufficient_data)
    assert decide(bad, DecisionRule(0.2)).status is DecisionStatus.insufficient_data
    assert decide(result(), DecisionRule(None)).status is DecisionStatus.not_evaluated


def test_rule_validation():
    with pytest.raises(ValueError, match="alpha"):
        DecisionRule(0.1, alpha=1.5)
    with pytest.raises(ValueError, match="threshold"):
        DecisionRule(-0.1)


def test_benjamini_hochberg_matches_scipy():
    rng = np.random.default_rng(0)
    for m in (1, 2, 7, 50, 1000):
        p = np.concatenate([rng.uniform(size=m), rng.uniform(0, 1e-3, size=m // 3)])
        rng.shuffle(p)
        got = benjamini_hochberg(p, 0.05)
        np.testing.assert_allclose(got.adjusted, stats.false_discovery_control(p, method="bh"), rtol=1e-12)
        k = max([i for i, q in enumerate(np.sort(p), 1) if q <= i * 0.05 / p.size], default=0)
        assert got.rejected.sum() == k  # the step-up rule, directly
        assert set(np.flatnonzero(got.rejected)) == set(np.argsort(p, kind="stable")[:k])


def test_benjamini_hochberg_leaves_untested_out():
    got = benjamini_hochberg([0.01, np.nan, 0.04], 0.05)
    assert got.m == 2 and np.isnan(got.adjusted[1]) and not got.rejected[1]
    np.testing.assert_allclose(got.adjusted[[0, 2]], [0.02, 0.04])
    assert benjamini_hochberg([], 0.05).m == 0
    with pytest.raises(ValueError):
        benjamini_hochberg([1.5], 0.05)


def test_policy_defaults_and_overrides():
    policy = AnalysisPolicy.model_validate({
        "drift": {"thresholds": {"psi": 0.25}, "min_n": 200},
        "features": {"amount": {"method": "psi", "thresholds": {"psi": 0.4}, "alpha": 0.01},
                     "session": {"drift": False}},
    })
    assert policy.method("age", "numeric") == "wasserstein_norm"
    assert policy.method("country", "categorical") == "jensen_shannon"
    assert policy.method("amount", "numeric") == "psi"
    assert policy.rule("age", "numeric", "psi") == DecisionRule(0.25, 0.05, 200)
    assert policy.rule("amount", "numeric", "psi") == DecisionRule(0.4, 0.01, 200)
    assert policy.rule("age", "numeric", "ks").threshold == 0.1  # the registered default
    assert policy.rule("age", "numeric", "wasserstein").threshold is None
    assert not policy.drift_enabled("session")
    assert policy.statistics("age", "numeric") == (
        "hellinger", "jensen_shannon", "kl", "ks", "psi", "wasserstein", "wasserstein_norm")
    assert AnalysisPolicy.model_validate({}) == AnalysisPolicy()


@pytest.mark.parametrize("section, match", [
    ({"drift": {"numeric_method": "chi2"}}, "unknown numeric statistic 'chi2'"),
    ({"drift": {"thresholds": {"psy": 0.2}}}, "unknown statistic 'psy'"),
    ({"drift": {"alpha": 2}}, "drift.alpha"),
    ({"drift": {"colour": "red"}}, "drift.colour"),
    ({"profile": {"bins": 50, "sketch_size": 20}}, "sketch_size"),
    ({"features": {"x": {"method": "nope"}}}, "features.x.method"),
])
def test_policy_rejects_mistakes_with_their_path(section, match):
    with pytest.raises(ValidationError, match=match):
        AnalysisPolicy.model_validate(section)


def test_feature_method_must_exist_for_its_kind():
    policy = AnalysisPolicy.model_validate({"features": {"country": {"method": "chi2"}}})
    assert policy.method("country", "categorical") == "chi2"
    with pytest.raises(ValueError, match="numeric"):
        policy.method("country", "numeric")
