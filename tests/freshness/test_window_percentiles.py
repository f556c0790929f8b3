"""Freshness lag percentiles per analysis window and per feature, made by the scheduler's analysis
cycle on a real database and read back through the results API, against a hand computation."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from analysis.freshness import lag_summary
from analysis.jobs.cycle import run_cycle
from analysis.jobs.run import RunContext
from collector.app import create_app
from config.loader import parse_monitors
from config.monitors import Monitors
from store.analysis_results import read_results
from store.catalog import sync_models
from store.records import PredictionRow
from store.tokens import create_token
from store.writes import write_predictions
from tests.collector.conftest import make_settings

HOUR = timedelta(hours=1)

# (stalest lag s, sample weight, per-feature lags or None) of the first window's predictions.
FIRST_WINDOW: list[tuple[float | None, float, dict[str, float] | None]] = [
    (10.0, 1.0, {"amount": 10.0, "country": 4.0}),
    (20.0, 1.0, {"amount": 20.0}),
    (30.0, 2.0, None),  # one feature time for all features
    (40.0, 2.0, {"amount": 1.0, "country": 40.0}),
    (50.0, 3.5, None),
    (60.0, 0.5, {"amount": 60.0, "country": 2.0}),
    (None, 5.0, None),  # sent no feature time: not in the percentiles, only in the coverage
]
# By hand, weighted percentile p_q = the smallest lag whose cumulative weight reaches q * total:
# - stalest: lags 10 20 30 40 50 60, weights 1 1 2 2 3.5 0.5 (total 10), cumulative 1 2 4 6 9.5 10:
#   p50 needs 5 -> 40; p90 needs 9 -> 50; p99 needs 9.9 -> 60; max 60. (Unweighted p50 would be 30.)
#   coverage 10 of 15.
# - amount: lags 1 10 20 60, weights 2 1 1 0.5 (total 4.5), cumulative 2 3 4 4.5:
#   p50 needs 2.25 -> 10; p90 needs 4.05 -> 60; p99 -> 60; max 60; coverage 4.5 / 15.
# - country: lags 2 4 40, weights 0.5 1 2 (total 3.5), cumulative 0.5 1.5 3.5:
#   p50 needs 1.75 -> 40; p90, p99, max -> 40; coverage 3.5 / 15.
EXPECTED = {
    "": ({"lag_p50": 40.0, "lag_p90": 50.0, "lag_p99": 60.0, "lag_max": 60.0}, 6, 10.0),
    "amount": ({"lag_p50": 10.0, "lag_p90": 60.0, "lag_p99": 60.0, "lag_max": 60.0}, 4, 4.5),
    "country": ({"lag_p50": 40.0, "lag_p90": 40.0, "lag_p99": 40.0, "lag_max": 40.0}, 3, 3.5),
}


def monitors() -> Monitors:
    return parse_monitors({"version": 1, "models": [{
        "name": "m", "task": "binary", "positive_class": "1",
        "features": [{"name": "amount", "type": "numeric"}, {"name": "country", "type": "categorical"}],
        "analysis": {"schedule": {"window": "1h", "delay": "5m", "catchup": "6h"}},
    }]})


def seed(engine: Engine, t0: datetime) -> None:
    rows = [PredictionRow(time=t0 + timedelta(minutes=5 * i), model="m", version="v1", prediction_id=f"a{i}",
                          features={"amount": 1.0, "country": "DE"}, prediction="1", weight=weight,
                          feature_lag_s=stalest, feature_lags=lags)
            for i, (stalest, weight, lags) in enumerate(FIRST_WINDOW)]
    # The next window: one prediction 5 s stale; and a window after it with no feature times.
    rows.append(PredictionRow(time=t0 + HOUR + timedelta(minutes=1), model="m", version="v1", prediction_id="b0",
                              features={"amount": 1.0}, prediction="1", weight=2.0, feature_lag_s=5.0))
    rows.append(PredictionRow(time=t0 + 2 * HOUR + timedelta(minutes=1), model="m", version="v1", prediction_id="c0",
                              features={"amount": 1.0}, prediction="1"))
    write_predictions(engine, rows)


def by_feature(engine: Engine, start: datetime) -> dict[str, Any]:
    rows = read_results(engine, "m", "freshness", start, start + HOUR)
    out: dict[str, Any] = {}
    for r in rows:
        out.setdefault(r.feature, {})[r.metric] = r
    return out


def test_the_analysis_cycle_stores_weighted_lag_percentiles_per_window_and_feature(engine: Engine) -> None:
    config = monitors()
    sync_models(engine, config)
    t0 = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - 4 * HOUR
    seed(engine, t0)
    report = run_cycle(RunContext(engine, "freshness-test"), config, t0 + 3 * HOUR + timedelta(minutes=6), alerts=False)
    assert not report.failed_models and {o.status for o in report.outcomes} == {"done"}

    first = by_feature(engine, t0)
    assert set(first) == set(EXPECTED)
    for feature, (values, n, weight) in EXPECTED.items():
        got = first[feature]
        assert {metric: row.value for metric, row in got.items()} == values, feature
        assert {(row.n, row.status, row.details["weight"], row.details["unit"]) for row in got.values()} == {(n, "ok", weight, "s")}
        assert {row.details["coverage"] for row in got.values()} == {weight / 15.0}

    second = by_feature(engine, t0 + HOUR)
    assert {metric: row.value for metric, row in second[""].items()} == {
        "lag_p50": 5.0, "lag_p90": 5.0, "lag_p99": 5.0, "lag_max": 5.0}
    assert set(second) == {""}  # a scalar feature time: no per-feature rows
    assert by_feature(engine, t0 + 2 * HOUR) == {}  # no feature times sent: no freshness rows


def test_freshness_results_through_the_read_api(sqlite_engine: Engine) -> None:
    config = monitors()
    sync_models(sqlite_engine, config)
    t0 = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - 4 * HOUR
    seed(sqlite_engine, t0)
    run_cycle(RunContext(sqlite_engine, "freshness-api"), config, t0 + 3 * HOUR + timedelta(minutes=6), alerts=False)
    token = create_token(sqlite_engine, ["read"], "freshness-read")
    with TestClient(create_app(make_settings(), engine=sqlite_engine, monitors=config)) as client:
        answer = client.get("/v1/models/m/freshness", params={"from": t0.isoformat(), "to": (t0 + HOUR).isoformat(),
                                                              "metric": "lag_p99"},
                            headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["kind"] == "freshness"
        assert {(r["feature"], r["value"]) for r in body["results"]} == {("", 60.0), ("amount", 60.0), ("country", 40.0)}
        assert client.get("/v1/models/m/freshness").status_code == 401  # read scope, like every result


def test_lag_summary_is_numpys_weighted_inverted_cdf_and_skips_missing() -> None:
    lags = np.array([3.0, np.nan, 1.0, 2.0])
    weights = np.array([1.0, 100.0, 1.0, 2.0])
    summary = lag_summary(lags, weights)
    assert summary is not None and (summary.n, summary.weight) == (3, 4.0)
    # cumulative weights 1 (lag 1), 3 (lag 2), 4 (lag 3) of 4: p50 needs 2 -> 2, p90 needs 3.6 -> 3
    assert summary.values() == {"p50": 2.0, "p90": 3.0, "p99": 3.0, "max": 3.0}
    assert lag_summary(np.array([np.nan]), np.array([1.0])) is None
    with pytest.raises(ValueError, match="shape"):
        lag_summary(np.zeros(2), np.ones(3))
