"""Performance thresholds (pure): the YAML vocabulary and its errors, the verdict from the
confidence interval, the weighted error and slow rates, the job's rows whole and per slice, and
``modelwatch check`` rejecting thresholds that could never be evaluated."""

from __future__ import annotations

import math
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from analysis.jobs.check import check_analysis
from analysis.jobs.performance_job import performance_rows
from analysis.jobs.segments import slice_segments
from analysis.performance import regression_metrics
from analysis.performance.rates import error_rate, share, slow_rate
from analysis.performance.thresholds import judge
from analysis.stats.intervals import wilson_interval
from analysis.stats.policy import AnalysisPolicy, PerformanceThreshold
from config.loader import parse_monitors
from store.analysis_reads import WindowData
from tests.conftest import REPO_ROOT


def policy(**performance: object) -> AnalysisPolicy:
    return AnalysisPolicy.model_validate({"performance": performance})


def test_thresholds_inline_or_under_thresholds_mean_the_same() -> None:
    inline = policy(accuracy={"min": 0.9}, mae={"max": 12.5}).performance
    nested = policy(thresholds={"accuracy": {"min": 0.9}, "mae": {"max": 12.5}}).performance
    assert inline == nested
    assert inline.thresholds["accuracy"].direction == "min" and inline.thresholds["mae"].value == 12.5
    assert policy().performance.thresholds == {} and policy().performance.min_n == 100


@pytest.mark.parametrize(("performance", "message"), [
    ({"accuracy": {"max": 0.9}}, "accuracy is better higher: its threshold is {min: ...}"),
    ({"mae": {"min": 1.0}}, "mae is better lower: its threshold is {max: ...}"),
    ({"acuracy": {"min": 0.9}}, "unknown performance metric 'acuracy'"),
    ({"accuracy": {"min": 1.2}}, "threshold for accuracy must be within [0, 1]"),
    ({"rmse": {"max": -1.0}}, "threshold for rmse must be within [0, inf]"),
    ({"accuracy": {}}, "give exactly one of min or max"),
    ({"accuracy": {"min": 0.8, "max": 0.9}}, "give exactly one of min or max"),
    ({"f1": {"min": 0.5}, "thresholds": {"f1": {"min": 0.6}}}, "threshold for f1 given twice"),
    ({"min_n": -1}, "greater than or equal to 0"),
])
def test_bad_thresholds_name_what_is_wrong(performance: dict, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        policy(**performance)
    assert message in str(info.value)


def test_r2_may_be_negative_but_not_above_one() -> None:
    assert policy(r2={"min": -0.5}).performance.thresholds["r2"].value == -0.5
    with pytest.raises(ValidationError, match="within"):
        policy(r2={"min": 1.5})


def test_verdict_uses_the_interval_bound_not_the_value() -> None:
    at_least = PerformanceThreshold(min=0.9)
    small = share("accuracy", np.arange(150) < 130.5)  # 0.87 on 150 rows
    assert small.upper > 0.9 and judge(small, at_least, 100).status == "ok"
    large = share("accuracy", np.arange(3000) < 2610)  # 0.87 on 3,000 rows
    verdict = judge(large, at_least, 100)
    assert verdict.status == "degraded" and verdict.bound == large.upper < 0.9 and verdict.threshold == 0.9
    assert verdict.details() == {"direction": "min", "bound": large.upper}
    assert judge(share("accuracy", np.arange(60) < 30), at_least, 100).status == "insufficient"  # n < min_n
    assert judge(large, None, 100).status == "ok"  # no threshold: informational


def test_max_thresholds_compare_the_lower_bound() -> None:
    rng = np.random.default_rng(3)
    y = rng.normal(0.0, 1.0, 2000)
    report = regression_metrics(y, y + rng.normal(0.0, 2.0, 2000))  # MAE ~ 1.6
    mae = report["mae"]
    assert judge(mae, PerformanceThreshold(max=1.0), 100).status == "degraded"
    assert judge(mae, PerformanceThreshold(max=mae.value - 1e-6), 100).status == "ok"  # worse, not beyond interval
    assert judge(mae, PerformanceThreshold(max=mae.lower - 1e-6), 100).status == "degraded"


def test_undefined_metric_is_insufficient_not_ok() -> None:
    undefined = share("accuracy", np.zeros(0, bool))
    assert math.isnan(undefined.value)
    assert judge(undefined, PerformanceThreshold(min=0.9), 0).status == "insufficient"


def test_error_and_slow_rates_are_weighted_shares_of_traffic() -> None:
    failed = np.array([True, False, False, False])
    weights = np.array([10.0, 1.0, 1.0, 1.0])  # the failure was sampled at 10 %
    rate = error_rate(failed, weights=weights)
    n_eff = 13.0 ** 2 / 103.0
    expected = wilson_interval(10 / 13, n_eff)
    assert rate.value == 10 / 13 and rate.n == 4 and (rate.lower, rate.upper) == (expected.lower, expected.upper)
    latency = np.array([np.nan, 50.0, 150.0, 250.0])
    slow = slow_rate(latency, 100.0, failed=np.array([False, False, False, True]), weights=np.array([1.0, 3.0, 1.0, 1.0]))
    # untimed and failed rows are not latency events: 1 of the remaining weight 4 is slow
    assert slow.value == 0.25 and slow.n == 2 and slow.details["threshold_ms"] == 100.0


def _window(n: int, rng: np.random.Generator, error: np.ndarray, country: np.ndarray) -> WindowData:
    when = datetime(2025, 1, 1, tzinfo=timezone.utc)
    y = rng.normal(100.0, 10.0, n)
    return WindowData(
        start=when, end=when, time=np.zeros(n), prediction_id=np.array([str(i) for i in range(n)], object),
        version=np.full(n, "v1", object), weight=np.ones(n), features={}, slices={"country": country},
        prediction=np.full(n, None, object), prediction_value=y + error, score=np.full(n, np.nan), probabilities=None,
        label=np.full(n, None, object), label_value=y, label_time=np.zeros(n),
        failed=np.zeros(n, bool), latency_ms=np.full(n, np.nan))


def test_job_judges_the_whole_window_and_every_slice() -> None:
    model = parse_monitors({"version": 1, "models": [{
        "name": "eta", "task": "regression", "features": [{"name": "x", "type": "numeric"}], "slices": ["country"],
    }]}).models[0]
    rng = np.random.default_rng(5)
    country = np.array(["DE"] * 1500 + ["FR"] * 500, object)
    error = np.where(country == "FR", rng.normal(0.0, 40.0, 2000), rng.normal(0.0, 5.0, 2000))  # FR: MAE ~32
    data = _window(2000, rng, error, country)
    rules = policy(mae={"max": 12.5}, r2={"min": 0.5}, min_n=50)
    rows = performance_rows(model, data, slice_segments(data.slices, data.weight, 20), rules)
    verdicts = {(r.metric, r.slice_value): (r.status, r.threshold) for r in rows if r.metric in ("mae", "r2")}
    assert verdicts[("mae", "FR")] == ("degraded", 12.5) and verdicts[("mae", "DE")] == ("ok", 12.5)
    assert verdicts[("mae", "")] == ("ok", 12.5)  # whole MAE ~ 11: the FR tail does not drag it over 12.5
    assert verdicts[("r2", "FR")][0] == "degraded" and verdicts[("r2", "DE")][0] == "ok"
    mae_fr = next(r for r in rows if r.metric == "mae" and r.slice_value == "FR")
    assert mae_fr.details["direction"] == "max" and mae_fr.details["bound"] == mae_fr.details["lower"] > 12.5
    unjudged = {r.status for r in rows if r.metric == "rmse"}
    assert unjudged == {"ok"}  # no threshold
    assert {r.metric for r in rows if r.slice_key == ""} >= {"error_rate", "label_coverage", "mae"}
    assert "slow_rate" not in {r.metric for r in rows}  # the model has no latency SLO


def _check(tmp_path: Path, analysis: str, slos: str = "[]") -> subprocess.CompletedProcess[str]:
    path = tmp_path / "monitors.yaml"
    path.write_text(
        "version: 1\nmodels:\n  - name: m\n    task: binary\n    positive_class: '1'\n"
        f"    features: [{{name: x, type: numeric}}]\n    slos: {slos}\n    analysis: {analysis}\n")
    return subprocess.run([sys.executable, "-m", "modelwatch.cli", "check", str(path)], capture_output=True,
                          text=True, cwd=REPO_ROOT, timeout=120)


def test_check_validates_the_analysis_section(tmp_path: Path) -> None:
    ok = _check(tmp_path, "{performance: {accuracy: {min: 0.9}, slow_rate: {max: 0.05}}}",
                "[{name: fast, kind: latency, objective: 0.99, threshold_ms: 100}]")
    assert ok.returncode == 0, ok.stderr
    bad = _check(tmp_path, "{performance: {accuracy: {max: 0.9}}, drift: {thresholds: {psy: 0.2}}}")
    assert bad.returncode == 1
    assert "models[0].analysis.performance.thresholds: accuracy is better higher" in bad.stderr
    assert "models[0].analysis.drift.thresholds: unknown statistic 'psy'" in bad.stderr
    never = _check(tmp_path, "{performance: {mae: {max: 3}, slow_rate: {max: 0.1}}}")
    assert never.returncode == 1
    assert "models[0].analysis.performance.thresholds.mae: a binary model has no mae" in never.stderr
    assert "models[0].analysis.performance.thresholds.slow_rate: the model has no latency SLO" in never.stderr


def test_check_analysis_is_empty_for_a_valid_section() -> None:
    model = parse_monitors({"version": 1, "models": [{
        "name": "m", "task": "multiclass", "classes": ["a", "b"], "features": [{"name": "x", "type": "numeric"}],
        "analysis": {"schedule": {"window": "1h"}, "performance": {"f1": {"min": 0.7}, "ece": {"max": 0.1}}},
    }]}).models[0]
    assert check_analysis(model) == []
