"""The verdict's rules on hand-built comparisons (pure): what rolls back, what keeps watching,
what promotes, and that the reasons carry the numbers."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.canary import CanaryVerdict, VersionCounters, VersionSample, compare, decide
from analysis.drift.profile import fit_profile
from analysis.stats.fdr import benjamini_hochberg
from config.deploys import CanaryPolicy
from modelwatch.counters import DEFAULT_BOUNDS_MS
from tests.canary.builders import SLOW_TAIL, counters, sample

POLICY = CanaryPolicy(min_requests=500, min_labels=200)


def verdict(stable: tuple, canary: tuple, policy: CanaryPolicy = POLICY, **options) -> CanaryVerdict:
    return decide(compare(stable, canary, regression=options.pop("regression", False), **options), policy)


def equal_pair(requests: int = 4000, right: int = 900, wrong: int = 100) -> tuple[tuple, tuple]:
    return ((counters("v1", requests, 20), sample("v1", right, wrong, seed=1)),
            (counters("v2", requests, 20), sample("v2", right, wrong, seed=2)))


def test_a_higher_error_rate_rolls_back_with_its_numbers() -> None:
    v = verdict((counters("v1", 4000, 20), sample("v1", 900, 100)), (counters("v2", 4000, 200), sample("v2", 900, 100)))
    assert v.decision == "rollback"
    assert len(v.reasons) == 1
    assert v.reasons[0].startswith("error rate 5.0% (200 of 4000 requests) vs stable 0.5% (20 of 4000): +4.5 pp (95% CI ")
    assert v.reasons[0].endswith("q < 0.001: worse by more than the +0.5 pp allowed")


def test_lower_accuracy_rolls_back() -> None:
    v = verdict((counters("v1", 4000, 20), sample("v1", 900, 100)), (counters("v2", 4000, 20), sample("v2", 800, 200)))
    assert v.decision == "rollback"
    assert [r.split(" vs ")[0] for r in v.reasons] == ["accuracy 80.0%"]
    assert "on 1000 vs 1000 labelled predictions: -10.0 pp" in v.reasons[0]
    assert "drop of 1.0 pp allowed" in v.reasons[0]


def test_a_slower_tail_rolls_back_on_p99() -> None:
    v = verdict((counters("v1", 4000, 20), sample("v1", 900, 100)),
                (counters("v2", 4000, 20, SLOW_TAIL), sample("v2", 900, 100)))
    assert v.decision == "rollback"
    (reason,) = v.reasons
    assert reason.startswith("p99 latency ") and "5.0% of canary requests slower than 250 ms vs 0.0% of stable's" in reason
    assert "+20% allowed" in reason


def test_equal_versions_with_enough_traffic_and_labels_promote() -> None:
    v = verdict(*equal_pair())
    assert v.decision == "promote"
    assert v.reasons[0] == "nothing worse than stable over 4000 canary requests"
    assert {g.metric for g in v.guards} == {"error_rate", "latency_p99", "accuracy"}


def test_too_little_traffic_keeps_watching_but_a_broken_canary_still_rolls_back() -> None:
    quiet = verdict(*equal_pair(requests=100))
    assert quiet.decision == "keep_watching"
    assert quiet.reasons[:2] == ("only 100 requests from stable v1 in the window (need 500)",
                                 "only 100 requests from canary v2 in the window (need 500)")
    broken = verdict((counters("v1", 100, 1), sample("v1", 90, 10)), (counters("v2", 100, 40), sample("v2", 90, 10)))
    assert broken.decision == "rollback" and broken.reasons[0].startswith("error rate 40.0% (40 of 100 requests)")


def test_few_labels_keep_watching_and_no_labels_are_a_note() -> None:
    few = verdict((counters("v1", 4000, 20), sample("v1", 45, 5)), (counters("v2", 4000, 20), sample("v2", 45, 5)))
    assert few.decision == "keep_watching"
    assert few.reasons == ("only 50 labelled predictions from stable v1 (need 200): accuracy not judged yet",
                           "only 50 labelled predictions from canary v2 (need 200): accuracy not judged yet")
    none = verdict((counters("v1", 4000, 20), sample("v1", unlabelled=500)),
                   (counters("v2", 4000, 20), sample("v2", unlabelled=500)))
    assert none.decision == "promote"
    assert "no labels for either version yet: accuracy not judged" in none.notes
    assert "accuracy" not in {g.metric for g in none.guards}


def test_significantly_worse_within_the_margin_keeps_watching() -> None:
    # 1.0% vs 1.3% on 200,000 requests each: significant, but +0.3 pp is within the +0.5 pp margin
    v = verdict((counters("v1", 200_000, 2000), sample("v1", 900, 100)),
                (counters("v2", 200_000, 2600), sample("v2", 900, 100)))
    assert v.decision == "keep_watching"
    assert v.reasons[0].startswith("error rate 1.3% (2600 of 200000 requests)")
    assert v.reasons[0].endswith("significantly worse (q < 0.001) though within the +0.5 pp allowed")


def test_beyond_the_margin_but_not_significant_is_inconclusive() -> None:
    v = verdict((counters("v1", 600, 6), sample("v1", 900, 100)), (counters("v2", 600, 11), sample("v2", 900, 100)))
    assert v.decision == "keep_watching"
    assert v.reasons[0].startswith("inconclusive: error rate 1.8% (11 of 600 requests)")
    assert "beyond the +0.5 pp allowed but not significant (q = " in v.reasons[0]


def test_guards_are_adjusted_together_with_benjamini_hochberg() -> None:
    v = verdict((counters("v1", 3000, 30), sample("v1", 880, 120)), (counters("v2", 3000, 45), sample("v2", 860, 140)))
    p = [g.p_value for g in v.guards]
    assert [g.q_value for g in v.guards] == pytest.approx(benjamini_hochberg(p, POLICY.alpha).adjusted.tolist())
    assert all(g.q_value >= g.p_value for g in v.guards)


def test_a_regressor_with_larger_errors_rolls_back_on_mae() -> None:
    rng = np.random.default_rng(5)
    stable = sample("v1", abs_errors=np.abs(rng.normal(0, 10.0, 800)))
    canary = sample("v2", abs_errors=np.abs(rng.normal(0, 14.0, 800)))
    v = verdict((counters("v1", 4000, 20), stable), (counters("v2", 4000, 20), canary), regression=True)
    assert v.decision == "rollback"
    assert v.reasons[0].startswith("MAE ") and "on 800 vs 800 labelled predictions" in v.reasons[0]
    assert "+5% (" in v.reasons[0]


def test_prediction_shift_and_input_drift_are_notes_not_decisions() -> None:
    rng = np.random.default_rng(0)
    reference = fit_profile({"amount": rng.normal(100.0, 20.0, 5000),
                             "channel": rng.choice(np.array(["web", "ios", "android"], dtype=object), 5000)},
                            {"amount": "numeric", "channel": "categorical"})
    stable = (counters("v1", 4000, 20), sample("v1", 900, 100, seed=1))
    canary = (counters("v2", 4000, 20), sample("v2", 900, 100, seed=2, score_shift=0.3, amount_shift=40.0))
    v = verdict(stable, canary, reference=reference)
    assert v.decision == "promote"
    assert any(n.startswith("canary predictions differ from stable's: score ") for n in v.notes)
    assert "inputs against the reference: 0 of 2 features drift for stable v1, 1 for canary v2" in v.notes
    assert any(n.startswith("only the canary's inputs drift on amount") for n in v.notes)


def test_counters_and_samples_of_different_versions_are_refused() -> None:
    with pytest.raises(ValueError, match="counters of version 'v1' paired with a sample of 'v3'"):
        compare((counters("v1", 10), sample("v3", 1, 1)), (counters("v2", 10), sample("v2", 1, 1)), regression=False)


def test_equal_versions_are_rolled_back_less_often_than_alpha() -> None:
    # 300 simulated canaries equal to their stable version: errors 1%, accuracy 90%, one latency
    # distribution; BH across the guards keeps false rollbacks under alpha (6 of 300 with this seed)
    rng = np.random.default_rng(21)
    bounds = tuple(float(b) for b in DEFAULT_BOUNDS_MS)

    def version(name: str) -> tuple[VersionCounters, VersionSample]:
        latency = rng.gamma(4.0, 5.0, 1500)
        buckets = np.bincount(np.searchsorted(bounds, latency, side="left"), minlength=len(bounds) + 1)
        counted = VersionCounters(name, 1500, int(rng.binomial(1500, 0.01)), float(latency.sum()), bounds,
                                  buckets.astype(float))
        return counted, VersionSample(name, np.full(700, 2.0), (rng.random(700) < 0.9).astype(float))

    decisions = [verdict(version("v1"), version("v2")).decision for _ in range(300)]
    assert decisions.count("rollback") / len(decisions) < POLICY.alpha
    assert decisions.count("promote") > decisions.count("keep_watching")
