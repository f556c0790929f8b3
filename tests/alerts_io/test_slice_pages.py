"""Worst slices on availability and latency pages, from per-slice error and slow rates the real
performance job computed from stored predictions (SQLite and PostgreSQL): counters page,
the page names the slice that fails (or is slow) most, delivered to a loopback PagerDuty."""

from __future__ import annotations

from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from config.monitors import Model
from store import schema
from store.catalog import sync_models
from tests.alerts.servers import CaptureServer
from tests.alerts_io.conftest import T0, Harness, make_monitors, model_entry
from tests.alerts_io.streams import write_counters
from tests.alerts_io.windows import HOUR, analyse, write_window

HISTORY = 8 * 60  # healthy minutes before the incident; the analysed window is the hour before it
INCIDENT = 20
SLOS = [{"name": "availability", "kind": "availability", "objective": 0.999},
        {"name": "fast", "kind": "latency", "objective": 0.99, "threshold_ms": 100}]


def analysed_slices(engine: Engine, pd: CaptureServer, slack: CaptureServer) -> tuple[Harness, Model]:
    """The hour before the incident analysed: FR fails 30 % of its predictions, US answers in
    400 ms (over the latency SLO's 100 ms), DE is healthy."""
    monitors = make_monitors(pd.url, slack.url, [model_entry("fraud", slos=SLOS)])
    sync_models(engine, monitors)
    fraud = monitors.models[0]
    rows = {"DE": 800, "FR": 200, "US": 500}
    write_window(engine, fraud, T0 + 7 * HOUR, rows, {c: 0.95 for c in rows},
                 errors={"DE": 0.01, "FR": 0.30, "US": 0.02}, latency_ms={"DE": 20.0, "FR": 30.0, "US": 400.0})
    analyse(engine, fraud, T0 + 7 * HOUR)
    return Harness(engine, monitors, pd, slack), fraud


def rates(engine: Engine, metric: str) -> dict[str, tuple[float, int]]:
    r = schema.analysis_results
    query = sa.select(r.c.slice_key, r.c.slice_value, r.c.value, r.c.n).where(r.c.metric == metric)
    with engine.connect() as conn:
        return {(f"{k}={v}" if k else ""): (value, n) for k, v, value, n in conn.execute(query)}


def page_details(pd: CaptureServer) -> dict[str, Any]:
    triggers = [r.json() for r in pd.requests if r.json()["event_action"] == "trigger"]
    assert len(triggers) == 1, [r.json()["payload"]["summary"] for r in pd.requests]
    return triggers[0]["payload"]["custom_details"]


def test_availability_page_names_the_slice_that_fails_most(
        engine: Engine, pd_server: CaptureServer, slack_server: CaptureServer) -> None:
    h, _ = analysed_slices(engine, pd_server, slack_server)
    errors = rates(engine, "error_rate")
    assert errors["country=FR"] == (0.3, 200) and errors["country=DE"] == (0.01, 800)
    assert errors[""][0] == (0.3 * 200 + 0.01 * 800 + 0.02 * 500) / 1500

    requests = np.full(HISTORY + INCIDENT + 30, 100.0)
    failed = np.zeros_like(requests)
    failed[HISTORY:HISTORY + INCIDENT] = 100.0
    write_counters(engine, "fraud", T0, requests, failed)
    h.run(range(HISTORY - 2, HISTORY + 5))

    details = page_details(pd_server)
    assert "availability" in pd_server.requests[0].json()["payload"]["summary"]
    # burn = slice error rate / (1 - 0.999): FR 0.3 -> 300x, US 0.02 -> 20x, DE 0.01 -> 10x
    assert details["Worst slices"] == "country=FR: 300.0x (200 events); country=US: 20.0x (500 events); " \
                                      "country=DE: 10.0x (800 events)"


def test_latency_page_names_the_slowest_slice(
        engine: Engine, pd_server: CaptureServer, slack_server: CaptureServer) -> None:
    h, _ = analysed_slices(engine, pd_server, slack_server)
    slow = rates(engine, "slow_rate")
    # failed predictions are not timed requests: FR's 60 failures leave 140
    assert slow["country=US"] == (1.0, 490) and slow["country=FR"] == (0.0, 140) and slow["country=DE"][0] == 0.0

    requests = np.full(HISTORY + INCIDENT + 30, 100.0)
    too_slow = np.zeros_like(requests)
    too_slow[HISTORY:HISTORY + INCIDENT] = 100.0
    write_counters(engine, "fraud", T0, requests, np.zeros_like(requests), slow=too_slow)
    h.run(range(HISTORY - 2, HISTORY + 15))  # at 99 %, 14.4x over 1 h needs ~9 slow minutes

    details = page_details(pd_server)
    assert "fast" in pd_server.requests[0].json()["payload"]["summary"]
    assert details["Worst slices"].startswith("country=US: 100.0x (490 events)")


def test_weighted_error_rate_counts_sampled_traffic(engine: Engine, pd_server: CaptureServer,
                                                    slack_server: CaptureServer) -> None:
    """Rows sampled at 10 % stand for 10 requests each: the slice's error rate is traffic's."""
    monitors = make_monitors(pd_server.url, slack_server.url, [model_entry("fraud", slos=SLOS)])
    sync_models(engine, monitors)
    fraud = monitors.models[0]
    write_window(engine, fraud, T0, {"DE": 100}, {"DE": 1.0}, errors={"DE": 0.5})
    p = schema.predictions
    with engine.begin() as conn:  # the failed half was sampled at 10 %: weight 10
        conn.execute(p.update().where(p.c.error.is_not(None)).values(weight=10.0))
    analyse(engine, fraud, T0)
    value, n = rates(engine, "error_rate")["country=DE"]
    assert n == 100 and abs(value - 500 / 550) < 1e-12
