"""Drift / quality / performance findings in analysis_results become alerts, and resolve when a
later window is clean; notifications survive the outbox round trip unchanged."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from alerts.payload import notification_from_payload, notification_payload
from store import schema
from store.upsert import insert_or_ignore
from tests.alerts.conftest import make_notification
from tests.alerts.servers import CaptureServer
from tests.alerts_io.conftest import MINUTE, T0, Harness, make_monitors, model_entry


def window(engine: Engine, end: datetime, status: str, feature: str = "amount", slice_value: str = "") -> None:
    row = {"model": "fraud", "version": "v3", "window_start": end - 60 * MINUTE, "window_end": end,
           "slice_key": "country" if slice_value else "", "slice_value": slice_value, "kind": "drift", "metric": "psi",
           "feature": feature, "value": 0.31 if status == "drift" else 0.02, "threshold": 0.2, "status": status,
           "n": 5000, "details": None, "computed_at": end}
    with engine.begin() as conn:
        insert_or_ignore(conn, schema.analysis_results, [row])


def test_drift_findings_open_and_resolve_a_ticket(engine: Engine, pd_server: CaptureServer, slack_server: CaptureServer) -> None:
    monitors = make_monitors(pd_server.url, slack_server.url, [model_entry("fraud", slos=[])])
    h = Harness(engine, monitors, pd_server, slack_server)
    window(engine, T0 + 60 * MINUTE, "drift", slice_value="BR")
    window(engine, T0 + 60 * MINUTE, "no_drift", feature="country")
    for minute in (61, 62, 63):
        h.cycle(h.at_minute(minute))
        h.deliver()
    window(engine, T0 + 120 * MINUTE, "no_drift", slice_value="BR")
    for minute in (121, 122, 123):
        h.cycle(h.at_minute(minute))
        h.deliver()
    assert pd_server.requests == []
    texts = [r.json()["text"] for r in slack_server.requests]
    assert len(texts) == 2 and texts[0].startswith("[FIRING]") and texts[1].startswith("[RESOLVED]")
    blocks = str(slack_server.requests[0].json()["blocks"])
    assert "drift on amount (country=BR): psi 0.31 vs threshold 0.2" in blocks
    alert = h.rows("SELECT labels, state FROM alerts")[0]
    assert "FeatureDrift" in str(alert.labels) and alert.state == "resolved"


def test_stale_findings_stop_alerting(engine: Engine, pd_server: CaptureServer, slack_server: CaptureServer) -> None:
    monitors = make_monitors(pd_server.url, slack_server.url, [model_entry("fraud", slos=[])])
    h = Harness(engine, monitors, pd_server, slack_server)
    window(engine, T0 + 60 * MINUTE, "drift")
    assert h.cycle(h.at_minute(61)).firing == 1
    # No analysis for longer than the lookback (2 days): the finding no longer holds.
    assert h.cycle(T0 + timedelta(days=3)).firing == 0


def test_notification_payload_round_trip() -> None:
    for notification in (make_notification(), make_notification(receiver="other", severity="ticket")):
        assert notification_from_payload(notification_payload(notification)) == notification


def test_slo_status_follows_the_config(engine: Engine, pd_server: CaptureServer, slack_server: CaptureServer) -> None:
    two = [{"name": "availability", "kind": "availability", "objective": 0.999},
           {"name": "fast", "kind": "latency", "objective": 0.99, "threshold_ms": 100}]
    h = Harness(engine, make_monitors(pd_server.url, slack_server.url, [model_entry("fraud", slos=two)]), pd_server, slack_server)
    h.cycle(h.at_minute(10))
    assert {r.slo for r in h.rows("SELECT slo FROM slo_status")} == {"availability", "fast"}
    h.monitors = make_monitors(pd_server.url, slack_server.url, [model_entry("fraud", slos=two[:1])])
    h.cycle(h.at_minute(11))
    assert [r.slo for r in h.rows("SELECT slo FROM slo_status")] == ["availability"]
    assert {r.slo for r in h.rows("SELECT slo FROM slo_status_history")} == {"availability", "fast"}
    assert {r.state for r in h.rows("SELECT state FROM slo_status")} == {"no_data"}  # no traffic is not "met"
