"""The ``feature_freshness`` SLO: good/total counted from stored lags against a hand count, the
burn rate that follows, a page from the alert cycle, the gauges on /metrics, ``rules export``
and ``modelwatch check``."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import ValidationError
from sqlalchemy.engine import Engine

from alerts.cycle import run_alert_cycle
from alerts.prom_rules import prometheus_rules
from alerts.slo_counts import read_slo_counts
from analysis.slo import SloSpec, evaluate_slo
from collector.app import create_app
from config.loader import parse_monitors
from config.monitors import Monitors
from store.alert_reads import latest_slo_status
from store.catalog import sync_models
from store.records import PredictionRow
from store.slo_reads import epoch_minute
from store.writes import write_predictions
from tests.cli.test_cli import run
from tests.collector.conftest import make_settings

T0 = datetime(2025, 3, 1, 0, 0, tzinfo=timezone.utc)
END = epoch_minute(T0) + 60  # evaluate the hour [T0, T0 + 1h)
SLO = {"name": "fresh-features", "kind": "feature_freshness", "objective": 0.9, "max_lag": "60s", "min_events": 1,
       "alerts": [{"severity": "page", "burn_rate": 5, "long_window": "1h", "short_window": "5m",
                   "confidence_bound": False}]}

# (minute, feature_lag_s, weight): good when the lag is at most 60 s.
PREDICTIONS = [
    (10, 30.0, 2.0),    # good
    (20, 60.0, 1.0),    # good: exactly max_lag
    (30, 60.5, 3.0),    # bad
    (40, None, 10.0),   # no feature time: not an event
    (56, 600.0, 4.0),   # bad, in the last 5 minutes
    (57, 5.0, 1.0),     # good, in the last 5 minutes
    (58, None, 7.0),    # no feature time: not an event
]
# By hand, weighted: 1h window total 2 + 1 + 3 + 4 + 1 = 11, bad 3 + 4 = 7 -> error ratio 7/11,
# burn (7/11) / (1 - 0.9) = 6.36x. 5m window (minutes 55-59): total 4 + 1 = 5, bad 4 -> burn 8x.
# Both over the 5x rule: it pages.
LONG_TOTAL, LONG_BAD, SHORT_TOTAL, SHORT_BAD = 11.0, 7.0, 5.0, 4.0


def monitors() -> Monitors:
    return parse_monitors({"version": 1, "models": [{
        "name": "m", "task": "binary", "positive_class": "1", "team": "ml",
        "features": [{"name": "amount", "type": "numeric"}], "slos": [SLO],
    }]})


def seed(engine: Engine) -> None:
    sync_models(engine, monitors())
    write_predictions(engine, [
        PredictionRow(time=T0 + timedelta(minutes=minute, seconds=20), model="m", version="v1", prediction_id=f"p{minute}",
                      features={"amount": 1.0}, prediction="1", weight=weight, feature_lag_s=lag)
        for minute, lag, weight in PREDICTIONS])


def test_counts_and_burn_rate_match_the_hand_count(engine: Engine) -> None:
    seed(engine)
    spec = monitors().models[0].slos[0]
    counts = read_slo_counts(engine, [("m", spec)], END)[("m", spec.name)]
    assert (counts.total.sum(), counts.bad.sum()) == (LONG_TOTAL, LONG_BAD)
    evaluation = evaluate_slo(spec, counts)
    [rule] = evaluation.rules
    assert (rule.long.total, rule.long.bad, rule.short.total, rule.short.bad) == (LONG_TOTAL, LONG_BAD, SHORT_TOTAL, SHORT_BAD)
    assert rule.long.burn_rate == pytest.approx((LONG_BAD / LONG_TOTAL) / (1 - 0.9))
    assert rule.short.burn_rate == pytest.approx((SHORT_BAD / SHORT_TOTAL) / (1 - 0.9))
    assert rule.fired and evaluation.firing_severities == ("page",)
    # Per minute (timeslice budgeting reads every minute): the events sit in their prediction minute.
    sliced = SloSpec.model_validate({**SLO, "budgeting": "timeslice", "window": "1d"})
    minutes = read_slo_counts(engine, [("m", sliced)], END)[("m", sliced.name)]
    assert minutes.total[-4] == 4.0 and minutes.bad[-4] == 4.0 and minutes.total.sum() == LONG_TOTAL


def test_the_alert_cycle_pages_and_metrics_show_the_burn(sqlite_engine: Engine) -> None:
    seed(sqlite_engine)
    config = monitors()
    run_alert_cycle(sqlite_engine, config, T0 + timedelta(minutes=60, seconds=5))
    with sqlite_engine.connect() as conn:
        [status] = latest_slo_status(conn)
    assert (status.kind, status.state, status.firing_severities) == ("feature_freshness", "firing", "page")
    assert (status.events_total, status.events_bad) == (LONG_TOTAL, LONG_BAD)
    assert status.burn_rates["1h"] == pytest.approx(70 / 11) and status.burn_rates["5m"] == pytest.approx(8.0)
    with TestClient(create_app(make_settings(), engine=sqlite_engine, monitors=config)) as client:
        text = client.get("/metrics").text
    burns = {s.labels["window"]: s.value for f in text_string_to_metric_families(text)
             if f.name == "modelwatch_slo_burn_rate" for s in f.samples if s.labels.get("kind") == "feature_freshness"}
    assert burns == {"1h": pytest.approx(70 / 11), "5m": pytest.approx(8.0)}


def test_rules_export_and_check_accept_the_kind(tmp_path: Path) -> None:
    rules = prometheus_rules(monitors())
    alerts = [r for g in rules["groups"] for r in g["rules"] if r.get("alert") == "SLOBurnRate"]
    assert [a["labels"]["sli"] for a in alerts] == ["feature_freshness"]
    assert "> (5 * 0.1)" in alerts[0]["expr"]
    path = tmp_path / "monitors.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "models": [{
        "name": "m", "task": "binary", "positive_class": "1",
        "features": [{"name": "amount", "type": "numeric"}],
        "slos": [{"name": "fresh", "kind": "feature_freshness", "objective": 0.99, "max_lag": "15m"}]}]}))
    result = run("check", str(path))
    assert result.returncode == 0, result.stderr
    assert "1 SLO(s)" in result.stdout and "slo fresh: page-14.4x-1h-5m: full outage detected after" in result.stdout


def test_max_lag_is_required_for_it_and_still_refused_elsewhere() -> None:
    with pytest.raises(ValidationError, match="a feature_freshness SLO needs max_lag"):
        SloSpec.model_validate({"name": "f", "kind": "feature_freshness", "objective": 0.9})
    with pytest.raises(ValidationError, match="max_lag is only for label_freshness and feature_freshness"):
        SloSpec.model_validate({"name": "a", "kind": "availability", "objective": 0.9, "max_lag": "1m"})
