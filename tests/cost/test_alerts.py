"""Cost alerts through the real alert cycle, outbox and worker to a Slack-shaped receiver on
loopback: CostPer1kPredictionsHigh fires per version over its threshold and resolves under it;
DailySpendHigh fires when a day's spend crosses max_per_day and resolves after a day under it."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from alerts.cost_alerts import cost_alert_candidates
from analysis.cost_figures import cost_snapshots
from store import schema_alerts
from store.writes import write_counters
from tests.alerts.servers import CaptureServer
from tests.alerts_io.conftest import Harness, make_monitors
from tests.cost.conftest import COSTS, counter_row, model_entry, utc

LIMITS = {"max_per_1k_predictions": 5.0, "max_per_day": 20.0, "severity": "ticket"}


def spread(version: str, hour: datetime, total: int, minutes: int = 60) -> list:
    """``total`` requests over the first ``minutes`` minutes of ``hour``, the remainder in the first."""
    share, rest = divmod(total, minutes)
    return [counter_row(version, hour + timedelta(minutes=m), share + (rest if m == 0 else 0)) for m in range(minutes)]


def slack_texts(server: CaptureServer) -> list[str]:
    return [f"{r.json()['text']} {r.json()['blocks']}" for r in server.requests]


def run_cycles(h: Harness, at: datetime) -> None:
    """Cycles a minute apart (the routes' group_wait is 30 s), delivering after each."""
    for k in range(3):
        h.cycle(at + timedelta(minutes=k))
        h.deliver()


def alerts(h: Harness) -> dict[str, tuple[str, dict]]:
    """``alertname/version -> (state, labels)`` of the stored alerts (typed columns, both dialects)."""
    with h.engine.connect() as conn:
        rows = list(conn.execute(sa.select(schema_alerts.alerts)))
    return {r.alertname + "/" + (r.labels.get("version") or ""): (r.state, r.labels) for r in rows}


@pytest.fixture
def harness(engine: Engine, pd_server: CaptureServer, slack_server: CaptureServer) -> Harness:
    models = [model_entry("fraud", COSTS, LIMITS) | {"slos": []}]
    return Harness(engine, make_monitors(pd_server.url, slack_server.url, models), pd_server, slack_server)


def test_cost_per_1k_fires_per_version_and_resolves(engine: Engine, harness: Harness, slack_server: CaptureServer) -> None:
    # 10:00-10:59: v1 serves 400 requests on its 3.20/h fleet: 3.20 / 400 x 1000 = 8.00 per 1k > 5.
    write_counters(engine, spread("v1", utc(3, 1, 10), 400))
    run_cycles(harness, utc(3, 1, 11, 5))
    state = alerts(harness)
    assert state["CostPer1kPredictionsHigh/v1"][0] == "firing"
    labels = state["CostPer1kPredictionsHigh/v1"][1]
    assert (labels["model"], labels["severity"], labels["team"], labels["kind"]) == ("fraud", "ticket", "payments-ml", "cost")
    (fired,) = slack_texts(slack_server)
    assert fired.startswith("[FIRING]")
    assert "cost per 1,000 predictions of fraud v1: 8.00 USD vs threshold 5.00 USD" in fired
    assert "400 requests, 1 fleet hours" in fired
    # 11:00-11:59: 2,000 more: 2 hours x 3.20 / 2,400 x 1000 = 2.67 per 1k, back under.
    write_counters(engine, spread("v1", utc(3, 1, 11), 2000))
    run_cycles(harness, utc(3, 1, 12, 5))
    assert alerts(harness)["CostPer1kPredictionsHigh/v1"][0] == "resolved"
    texts = slack_texts(slack_server)
    assert len(texts) == 2 and texts[1].startswith("[RESOLVED]") and "2.67 USD vs threshold 5.00 USD" in texts[1]
    assert "DailySpendHigh/" not in alerts(harness)  # 6.40 spent today: never over 20


def test_daily_spend_fires_the_day_it_crosses_and_resolves_after_a_day_under(
        engine: Engine, harness: Harness, slack_server: CaptureServer) -> None:
    # v2: 1.50/h + 0.0001 a request; 200,000 requests in the 12:00 hour: 1.50 + 20.00 = 21.50 > 20,
    # at 0.1075 per 1k (no per-1k alert).
    write_counters(engine, spread("v2", utc(3, 1, 12), 200_000, minutes=40))
    run_cycles(harness, utc(3, 1, 13, 5))
    state = alerts(harness)
    assert state["DailySpendHigh/"][0] == "firing" and "CostPer1kPredictionsHigh/v2" not in state
    (fired,) = slack_texts(slack_server)
    assert "spend of fraud on 2025-03-01: 21.50 USD vs max_per_day 20.00 USD (today so far" in fired
    # The next day, with no traffic: 03-01 is the last full day, still over: still firing (the
    # route's repeat_interval, 4 h, re-sends it, now about the last full day).
    run_cycles(harness, utc(3, 2, 9, 0))
    assert alerts(harness)["DailySpendHigh/"][0] == "firing"
    again = slack_texts(slack_server)[1]
    assert again.startswith("[FIRING]") and "on 2025-03-01: 21.50 USD vs max_per_day 20.00 USD (the last full UTC day)" in again
    # 03-03: the last full day (03-02) spent nothing: resolved.
    run_cycles(harness, utc(3, 3, 0, 5))
    assert alerts(harness)["DailySpendHigh/"][0] == "resolved"
    texts = slack_texts(slack_server)
    assert len(texts) == 3 and texts[2].startswith("[RESOLVED]") and "spend of fraud on 2025-03-03: 0.00 USD" in texts[2]


def test_models_without_cost_alerts_produce_no_candidates(engine: Engine, harness: Harness) -> None:
    write_counters(engine, spread("v1", utc(3, 1, 10), 60))
    models = harness.monitors.models
    with engine.connect() as conn:
        snaps = cost_snapshots(conn, models, utc(3, 1, 11, 5))
    assert [c.labels["alertname"] for c in cost_alert_candidates(models, snaps)] == ["CostPer1kPredictionsHigh", "DailySpendHigh"]
    unpriced = [m.model_copy(update={"cost_alerts": None}) for m in models]
    assert cost_alert_candidates(unpriced, snaps) == []
