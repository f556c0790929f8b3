"""Counters of a full outage in a real database -> cycle -> outbox -> worker -> loopback receivers."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy.engine import Engine

from alerts.silence_service import create_silence, expire_silence
from store import schema
from store.upsert import insert_or_ignore
from tests.alerts.servers import CaptureServer
from tests.alerts_io.conftest import MINUTE, T0, Harness, make_monitors, pd_events
from tests.alerts_io.streams import write_counters

HISTORY = 8 * 60  # minutes of healthy traffic before the outage
OUTAGE = 20


@pytest.fixture
def outage(engine: Engine) -> Engine:
    requests = np.full(HISTORY + OUTAGE + 120, 100.0)
    errors = np.zeros_like(requests)
    errors[HISTORY:HISTORY + OUTAGE] = 100.0
    write_counters(engine, "fraud", T0, requests, errors)
    return engine


def context_rows(engine: Engine) -> None:
    """A deploy 20 minutes before the outage and per-slice error rates of the latest window."""
    with engine.begin() as conn:
        insert_or_ignore(conn, schema.models, [{"name": "fraud", "task": "binary", "spec": {}, "created_at": T0, "updated_at": T0}])
        insert_or_ignore(conn, schema.model_versions, [{"model": "fraud", "version": "v8", "first_seen": T0,
                                                        "deployed_at": T0 + (HISTORY - 20) * MINUTE, "note": "new features"}])
        window_end = T0 + HISTORY * MINUTE
        rows = [{"model": "fraud", "version": "*", "window_start": window_end - 60 * MINUTE, "window_end": window_end,
                 "slice_key": "country", "slice_value": country, "kind": "performance", "metric": "error_rate",
                 "feature": "", "value": value, "threshold": None, "status": "ok", "n": 500, "details": None,
                 "computed_at": window_end} for country, value in (("BR", 0.4), ("DE", 0.01), ("US", 0.05))]
        insert_or_ignore(conn, schema.analysis_results, rows)


def test_outage_pages_once_and_resolves_once(outage: Engine, pd_server: CaptureServer, slack_server: CaptureServer) -> None:
    context_rows(outage)
    h = Harness(outage, make_monitors(pd_server.url, slack_server.url), pd_server, slack_server)
    h.run(range(HISTORY - 3, HISTORY + OUTAGE + 45))

    events = pd_events(pd_server)
    assert [action for action, _ in events] == ["trigger", "resolve"]
    assert events[0][1] == events[1][1]  # the resolve closes the incident the trigger opened
    # Paged within two minutes of data: the outage's 2nd minute fires, group_wait sends it a cycle later.
    fired = next(i for i, r in enumerate(h.reports) if r.firing)
    assert fired - 3 + 1 <= 2
    trigger = pd_server.requests[0].json()
    assert trigger["routing_key"] == "pd-routing-key-secret" and trigger["payload"]["severity"] == "critical"
    details = trigger["payload"]["custom_details"]
    assert "14.4x" in details["Burn rate"] and "over 5m" in details["Burn rate"]
    assert details["Budget left"].endswith("%") and "Time to exhaustion" in details
    assert details["Recent deploys"].startswith("v8 ") and "new features" in details["Recent deploys"]
    assert details["Worst slices"].startswith("country=BR: 400.0x")
    assert trigger["client_url"] == "http://dashboard.local/?model=fraud&slo=availability"
    # The outbox kept a log of both, each sent on its first attempt; the secret is nowhere in it.
    rows = h.rows("SELECT kind, status, attempts, payload FROM notifications WHERE receiver = 'pagerduty' ORDER BY id")
    assert [(r.kind, r.status, r.attempts) for r in rows] == [("firing", "sent", 1), ("resolved", "sent", 1)]
    assert all("pd-routing-key-secret" not in str(r.payload) for r in rows)
    status = h.rows("SELECT state, budget_remaining, burn_rates FROM slo_status")
    assert len(status) == 1 and status[0].budget_remaining < 1


def test_a_second_cycle_at_the_same_time_enqueues_nothing(outage: Engine, pd_server: CaptureServer, slack_server: CaptureServer) -> None:
    h = Harness(outage, make_monitors(pd_server.url, slack_server.url), pd_server, slack_server)
    for minute in range(HISTORY, HISTORY + 5):
        first = h.cycle(h.at_minute(minute))
        again = h.cycle(h.at_minute(minute))
        assert again.enqueued == 0 and again.transitions == 0, (minute, first, again)
    assert sum(r.enqueued for r in h.reports) == 1
    assert len(h.rows("SELECT id FROM notifications")) == 1


def test_a_silence_mutes_the_page_until_it_is_expired(outage: Engine, pd_server: CaptureServer, slack_server: CaptureServer) -> None:
    h = Harness(outage, make_monitors(pd_server.url, slack_server.url), pd_server, slack_server)
    silence = create_silence(outage, ['model="fraud"', 'severity="page"'], "alice", "planned failover",
                             h.at_minute(HISTORY - 5), duration=timedelta(hours=1))
    h.run(range(HISTORY - 3, HISTORY + 10))
    assert pd_server.requests == []
    muted = h.rows("SELECT state, silenced_by FROM alerts WHERE state = 'firing'")
    assert [r.silenced_by for r in muted if r.silenced_by] and silence.id in str(muted)
    # Expired while the outage goes on: the page goes out at the next flush.
    assert expire_silence(outage, silence.id, h.at_minute(HISTORY + 10), actor="test")
    h.run(range(HISTORY + 10, HISTORY + 13))
    assert [action for action, _ in pd_events(pd_server)] == ["trigger"]


def test_the_page_inhibits_the_ticket_of_the_same_slo(outage: Engine, pd_server: CaptureServer, slack_server: CaptureServer) -> None:
    h = Harness(outage, make_monitors(pd_server.url, slack_server.url), pd_server, slack_server)
    h.run(range(HISTORY - 3, HISTORY + OUTAGE + 45))
    inhibited = [r for r in h.reports if r.inhibited]
    assert inhibited, "the ticket fired while the page did, and was held"
    resolved_at = pd_server.requests[1]
    # Nothing reached Slack while the page fired; the ticket went out only after the page resolved.
    assert slack_server.requests, "the ticket is sent once the page no longer inhibits it"
    first_ticket = slack_server.requests[0]
    assert "[FIRING]" in first_ticket.json()["text"] and "(ticket)" in first_ticket.json()["text"]
    assert pd_server.requests.index(resolved_at) == 1
    ticket_rows = h.rows("SELECT created_at FROM notifications WHERE receiver = 'slack' ORDER BY id")
    page_resolve = h.rows("SELECT created_at FROM notifications WHERE receiver = 'pagerduty' AND kind = 'resolved'")
    assert ticket_rows[0].created_at >= page_resolve[0].created_at
