"""Deploys on the dashboard: every chart over time carries a rule and a label per deploy, and the
On-call page (run headless by Streamlit's AppTest on a real SQLite store) draws a recorded deploy
on its charts and lists it with how it was recorded and its artifact."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest

from config.loader import load_monitors
from dashboard import charts
from store.bootstrap import create_schema
from store.catalog import sync_models
from store.dashboard_reads import Deploy
from store.deploys import record_deploy
from store.engine import create_engine
from store.records import CounterRow
from store.writes import note_versions, write_counters
from tests.conftest import REPO_ROOT
from tests.dashboard.conftest import open_page  # noqa: F401 -- fixture
from tests.dashboard.test_pages import charts as page_charts
from tests.deploys.conftest import SHA

START = datetime(2026, 3, 1, 0, 0, tzinfo=timezone.utc)
END = START + timedelta(hours=6)
DEPLOYS = [Deploy("2.5.0", START + timedelta(hours=2), "threshold 0.75", "api", SHA),
           Deploy("2.4.9", START + timedelta(hours=1), None, "sdk"),
           Deploy("2.4.0", START - timedelta(days=1), None, None)]  # before the range: not drawn


def deploy_layers(chart) -> list[dict]:
    """The layers of ``chart``'s spec that draw deploys (their data names the deploy)."""
    spec = chart.to_dict()
    return [layer for layer in spec["layer"] if layer.get("data", {}).get("name") and any(
        "deploy" in str(row.get("version", "")) for row in spec["datasets"][layer["data"]["name"]])]


def deploy_rows(chart) -> list[dict]:
    spec = chart.to_dict()
    return spec["datasets"][deploy_layers(chart)[0]["data"]["name"]]


@pytest.mark.parametrize("name", ["time_series", "burndown", "alert_timeline"])
def test_every_chart_over_time_draws_the_deploys_in_its_range(name: str) -> None:
    hours = [START + timedelta(hours=h) for h in range(6)]
    chart = {
        "time_series": lambda: charts.time_series(pd.DataFrame({"time": hours, "series": "p99", "value": 1.0}), "ms",
                                                  DEPLOYS, START, END),
        "burndown": lambda: charts.burndown(pd.DataFrame({"hour": hours, "slo": "availability", "budget": 0.5}), DEPLOYS),
        "alert_timeline": lambda: charts.alert_timeline(pd.DataFrame([{"alert": "SLOBurnRate", "severity": "page",
                                                                       "state": "firing", "from": hours[1], "to": hours[3]}]),
                                                        START, END, DEPLOYS),
    }[name]()
    layers = deploy_layers(chart)
    assert sorted(layer["mark"]["type"] for layer in layers) == ["rule", "text"]
    rows = deploy_rows(chart)
    assert [(r["version"], r["source"], r["artifact"], r["note"]) for r in rows] == [
        ("deploy 2.5.0", "api", SHA[:12], "threshold 0.75"), ("deploy 2.4.9", "sdk", "", "")]


def test_a_chart_without_deploys_in_range_has_no_deploy_layer() -> None:
    frame = pd.DataFrame({"time": [START], "series": "p99", "value": 1.0})
    assert deploy_layers(charts.time_series(frame, "ms", DEPLOYS[2:], START, END)) == []


def test_oncall_page_draws_and_lists_a_recorded_deploy(tmp_path: Path, open_page) -> None:  # noqa: F811
    url = f"sqlite:///{tmp_path / 'dash.db'}"
    config = REPO_ROOT / "examples" / "monitors.yaml"
    engine = create_engine(url)
    try:
        create_schema(engine)
        sync_models(engine, load_monitors(config))
        note_versions(engine, "fraud-detector", ["2.4.9"], START)
        record_deploy(engine, "fraud-detector", "2.5.0", source="cli", actor="cli:alice", time=START + timedelta(hours=3),
                      artifact_sha256=SHA, note="retrained")
        write_counters(engine, [CounterRow(minute=START + timedelta(minutes=m), model="fraud-detector",
                                           version="2.4.9" if m < 180 else "2.5.0", batch_id="b", requests=10, errors=m % 2,
                                           latency_count=10, latency_sum_ms=50.0, latency_buckets={"5": 10}, dropped=None)
                               for m in range(0, 360, 5)])
    finally:
        engine.dispose()
    at = open_page(None, "oncall", url=url, config=config, model="fraud-detector",
                   **{"from": "2026-03-01T00:00:00Z", "to": "2026-03-01T06:00:00Z"})
    latency, errors = page_charts(at)[:2]
    for spec, frames in (latency, errors):
        drawn = next(f for f in frames if "source" in f.columns)
        assert list(drawn["version"]) == ["deploy 2.5.0", "deploy 2.4.9"]
        assert list(drawn["source"]) == ["cli", "sdk"] and list(drawn["artifact"]) == [SHA[:12], ""]
        assert {"rule", "text"} <= {layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"]
                                    for layer in spec["layer"]}
    recent = at.dataframe[-1].value
    assert list(recent["version"]) == ["2.5.0", "2.4.9"]
    assert list(recent["recorded by"]) == ["cli", "sdk"] and list(recent["sha256"]) == [SHA[:12], ""]
    assert list(recent["note"]) == ["retrained", ""]
