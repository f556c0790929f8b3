"""The delivery worker against real loopback receivers: down, rate limited, back; exactly once."""

from __future__ import annotations

import random
from datetime import timedelta

import numpy as np
from sqlalchemy.engine import Engine

from alerts.cycle import alerting_config
from alerts.retry import RetryPolicy
from alerts.worker import DeliveryWorker
from tests.alerts.servers import CaptureServer
from tests.alerts_io.conftest import ENV, T0, Harness, make_monitors, model_entry, pd_events
from tests.alerts_io.streams import write_counters
from tests.conftest import free_port

MODELS = ("fraud", "churn", "ranker")


def outages(engine: Engine, start: int = 300, length: int = 20, tail: int = 120) -> None:
    for i, model in enumerate(MODELS):
        requests = np.full(start + length + tail, 100.0)
        errors = np.zeros_like(requests)
        errors[start + i:start + i + length] = 100.0  # staggered by a minute each
        write_counters(engine, model, T0, requests, errors)


def test_receiver_down_then_back_delivers_every_notification_once(engine: Engine, slack_server: CaptureServer) -> None:
    outages(engine)
    port = free_port()
    monitors = make_monitors(f"http://127.0.0.1:{port}", slack_server.url, [model_entry(m) for m in MODELS])
    h = Harness(engine, monitors, slack_server, slack_server)  # nothing listens on `port` yet
    # Down (connection refused) through every trigger and most resolves.
    h.run(range(297, 360))
    pending = h.rows("SELECT kind, attempts, status FROM notifications WHERE receiver = 'pagerduty'")
    assert len(pending) == 6 and all(r.status == "pending" for r in pending)
    assert max(r.attempts for r in pending) > 3
    with CaptureServer(port=port) as pd:  # back, on the same port
        h.run(range(360, 370))
        for _ in range(20):  # let backoff timers come due
            h.now += timedelta(minutes=1)
            h.deliver()
        events = pd_events(pd)
    by_group: dict[str, list[str]] = {}
    for action, key in events:
        by_group.setdefault(key, []).append(action)
    assert len(events) == 6 and sorted(by_group.values()) == [["trigger", "resolve"]] * 3
    rows = h.rows("SELECT status, attempts FROM notifications WHERE receiver = 'pagerduty'")
    assert all(r.status == "sent" for r in rows)
    log = h.rows("SELECT a.ok, count(*) AS n FROM delivery_attempts a JOIN notifications n ON n.id = a.notification"
                 " WHERE n.receiver = 'pagerduty' GROUP BY a.ok ORDER BY a.ok")
    assert [(bool(r.ok), r.n) for r in log][-1] == (True, 6) and log[0].n > 6  # every failed try is logged too


def test_retry_after_is_honoured_and_a_permanent_error_fails_once(engine: Engine, pd_server: CaptureServer, slack_server: CaptureServer) -> None:
    outages(engine)
    h = Harness(engine, make_monitors(pd_server.url, slack_server.url, [model_entry("fraud")]), pd_server, slack_server)
    pd_server.reply(429, b"slow down", {"Retry-After": "120"})
    h.run(range(298, 303))
    assert len(pd_server.requests) == 1
    row = h.outbox()[0]
    assert (row.attempts, row.last_status, row.status) == (1, 429, "pending")
    assert row.next_attempt_at >= h.now + timedelta(seconds=120) - timedelta(minutes=4)
    h.now = row.next_attempt_at
    h.deliver()
    assert [a for a, _ in pd_events(pd_server)] == ["trigger", "trigger"]
    assert h.outbox()[0].status == "sent"
    pd_server.reply(400, b"invalid event")
    h.run(range(303, 360))
    rows = h.rows("SELECT kind, status, last_status, attempts FROM notifications ORDER BY id")
    assert (rows[-1].kind, rows[-1].status, rows[-1].last_status, rows[-1].attempts) == ("resolved", "failed", 400, 1)


def test_rate_limit_defers_without_counting_attempts(engine: Engine, pd_server: CaptureServer, slack_server: CaptureServer) -> None:
    outages(engine)
    monitors = make_monitors(pd_server.url, slack_server.url, [model_entry(m) for m in MODELS], group_wait="0s")
    data = monitors.model_dump(mode="json", by_alias=True)
    data["receivers"][0]["rate_limit_per_minute"] = 1
    data["receivers"][0]["rate_limit_burst"] = 1
    from config.loader import parse_monitors

    limited = parse_monitors(data)
    h = Harness(engine, limited, pd_server, slack_server)
    for minute in range(299, 304):
        h.cycle(h.at_minute(minute))
    env = {**ENV, "SLACK_URL": f"{slack_server.url}/slack"}
    h.worker = DeliveryWorker(engine, alerting_config(limited), env=env, rng=random.Random(1),
                              policy=RetryPolicy(), clock=lambda: h.now)
    report = h.worker.deliver_due(h.now)
    pages = [r for r in h.outbox() if r.receiver == "pagerduty"]
    assert len(pages) == 3 and report.deferred == 2
    assert sorted(r.attempts for r in pages) == [0, 0, 1]  # deferred rows are not attempts
    for _ in range(3):
        h.now += timedelta(seconds=61)
        h.worker.deliver_due(h.now)
    assert len(pd_server.requests) == 3


def test_the_worker_thread_delivers_on_the_real_clock_and_stops(sqlite_engine: Engine, pd_server: CaptureServer,
                                                                slack_server: CaptureServer) -> None:
    import threading
    from datetime import datetime, timezone

    from alerts.cycle import run_alert_cycle

    now = datetime.now(timezone.utc)
    start = now.replace(second=0, microsecond=0) - timedelta(minutes=120)
    requests = np.full(120, 100.0)
    errors = np.zeros(120)
    errors[-10:] = 100.0
    write_counters(sqlite_engine, "fraud", start, requests, errors)
    monitors = make_monitors(pd_server.url, slack_server.url, [model_entry("fraud")], group_wait="0s")
    assert run_alert_cycle(sqlite_engine, monitors, now).enqueued >= 1
    worker = DeliveryWorker(sqlite_engine, alerting_config(monitors), env={**ENV, "SLACK_URL": f"{slack_server.url}/s"})
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop, 0.1), daemon=True)
    thread.start()
    try:
        assert pd_server.wait_for(1, timeout=10)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
    assert [a for a, _ in pd_events(pd_server)] == ["trigger"]
