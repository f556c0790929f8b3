"""Performance thresholds end to end on a real database (SQLite and PostgreSQL): predictions and
labels stored, the real analysis job judges each window and slice against the model's
thresholds, the alert cycle turns degraded results into ModelPerformance alerts, the worker
delivers them to a real HTTP receiver, and they resolve when a later window is fine. Windows
still waiting for labels neither fire nor resolve; a drop inside the confidence interval or
below min_n does not alert."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from config.monitors import Model, Monitors
from store import schema, schema_alerts
from store.catalog import sync_models
from tests.alerts.servers import CaptureServer
from tests.alerts_io.conftest import T0, Harness, make_monitors, model_entry
from tests.alerts_io.windows import HOUR, analyse, write_labels_for, write_window


def fraud_monitors(pd: CaptureServer, slack: CaptureServer, **performance: Any) -> Monitors:
    entry = {**model_entry("fraud", slos=[]), "analysis": {"performance": performance}}
    return make_monitors(pd.url, slack.url, [entry])


def accuracy_at_least(minimum: float, engine: Engine, pd: CaptureServer, slack: CaptureServer) -> tuple[Harness, Model]:
    """The fraud model with ``accuracy: {min: minimum}`` (min_n 100) stored, and its harness."""
    monitors = fraud_monitors(pd, slack, accuracy={"min": minimum}, min_n=100)
    sync_models(engine, monitors)
    return Harness(engine, monitors, pd, slack), monitors.models[0]


def statuses(engine: Engine, hour: int, metric: str = "accuracy") -> dict[str, tuple[str, float | None]]:
    """slice -> (status, threshold) of ``metric`` in the window starting ``hour`` hours after T0."""
    r = schema.analysis_results
    query = sa.select(r.c.slice_key, r.c.slice_value, r.c.status, r.c.threshold).where(
        r.c.metric == metric, r.c.window_start == T0 + hour * HOUR)
    with engine.connect() as conn:
        return {(f"{k}={v}" if k else ""): (s, t) for k, v, s, t in conn.execute(query)}


def stored_alerts(engine: Engine) -> list[sa.Row]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(schema_alerts.alerts)))


def cycles(h: Harness, hour: int) -> int:
    """Alert cycles (with delivery) a few minutes into hour ``hour``; the firing count."""
    for minute in (5, 6, 7):
        report = h.cycle(T0 + hour * HOUR + timedelta(minutes=minute))
        h.deliver()
    return report.firing


def test_accuracy_below_its_threshold_alerts_until_a_later_window_is_fine(
        engine: Engine, pd_server: CaptureServer, slack_server: CaptureServer) -> None:
    h, fraud = accuracy_at_least(0.9, engine, pd_server, slack_server)
    rows = {"DE": 1500, "FR": 500}

    write_window(engine, fraud, T0, rows, {"DE": 0.97, "FR": 0.97})
    analyse(engine, fraud, T0)
    assert statuses(engine, 0) == {"": ("ok", 0.9), "country=DE": ("ok", 0.9), "country=FR": ("ok", 0.9)}
    assert cycles(h, 1) == 0

    write_window(engine, fraud, T0 + HOUR, rows, {"DE": 0.95, "FR": 0.60}, seed=2)
    analyse(engine, fraud, T0 + HOUR)
    # whole window 0.8625 and FR 0.60: degraded; DE 0.95 stays fine
    assert statuses(engine, 1) == {"": ("degraded", 0.9), "country=DE": ("ok", 0.9), "country=FR": ("degraded", 0.9)}
    assert cycles(h, 2) == 2
    alerts = stored_alerts(engine)
    assert {a.state for a in alerts} == {"firing"}
    assert {a.labels.get("slice", "") for a in alerts} == {"", "country=FR"}  # empty labels are dropped
    assert {a.labels["alertname"] for a in alerts} == {"ModelPerformance"}
    assert len(h.outbox()) == 1  # one ticket for the group (model, severity)
    texts = [r.json()["text"] for r in slack_server.requests]
    assert len(texts) == 1 and texts[0].startswith("[FIRING]")
    text = h.outbox()[0].payload["content"]["text"]
    assert "[firing] performance on fraud (country=FR): accuracy 0.6 vs threshold 0.9 over 500 rows" in text
    assert "[firing] performance on fraud: accuracy 0.8625 vs threshold 0.9 over 2000 rows" in text
    assert pd_server.requests == []  # performance opens tickets, routed to Slack

    # The next window's labels have not arrived: it decides nothing, the alerts stay.
    truth = write_window(engine, fraud, T0 + 2 * HOUR, rows, {"DE": 0.97, "FR": 0.97}, labels=False, seed=3)
    analyse(engine, fraud, T0 + 2 * HOUR)
    assert "accuracy" not in {m for m, in h.rows("SELECT DISTINCT metric FROM analysis_results WHERE window_start = :s",
                                                   s=T0 + 2 * HOUR)}
    assert cycles(h, 3) == 2
    assert len(slack_server.requests) == 1

    # Its labels arrive and the window is fine: the alerts resolve.
    write_labels_for(engine, fraud, truth)
    analyse(engine, fraud, T0 + 2 * HOUR)
    assert statuses(engine, 2)[""] == ("ok", 0.9)
    assert cycles(h, 4) == 0
    texts = [r.json()["text"] for r in slack_server.requests]
    assert len(texts) == 2 and texts[1].startswith("[RESOLVED]")
    assert {a.state for a in stored_alerts(engine)} == {"resolved"}


def test_a_drop_inside_the_interval_or_below_min_n_does_not_alert(
        engine: Engine, pd_server: CaptureServer, slack_server: CaptureServer) -> None:
    h, fraud = accuracy_at_least(0.9, engine, pd_server, slack_server)

    # 0.87 on 150 rows: Wilson 95 % upper bound 0.915 >= 0.9, could be noise
    write_window(engine, fraud, T0, {"DE": 150}, {"DE": 0.87})
    analyse(engine, fraud, T0)
    assert statuses(engine, 0)[""] == ("ok", 0.9)
    # 0.5 on 60 rows: far below, but fewer rows than min_n
    write_window(engine, fraud, T0 + HOUR, {"DE": 60}, {"DE": 0.5}, seed=2)
    analyse(engine, fraud, T0 + HOUR)
    assert statuses(engine, 1)[""] == ("insufficient", 0.9)
    assert cycles(h, 2) == 0
    assert h.outbox() == [] and slack_server.requests == []

    # The same 0.87 on 3,000 rows: upper bound 0.882 < 0.9, degraded
    write_window(engine, fraud, T0 + 2 * HOUR, {"DE": 3000}, {"DE": 0.87}, seed=3)
    analyse(engine, fraud, T0 + 2 * HOUR)
    assert statuses(engine, 2)[""] == ("degraded", 0.9)
    assert cycles(h, 3) == 2  # the whole window and its one slice, DE
