"""Fixtures for the alerting I/O tests: a monitors config whose receivers point at loopback
capture servers, counter streams in a real database, and a harness that runs the alert cycle and
the delivery worker minute by minute on a simulated clock."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from alerts.cycle import CycleReport, alerting_config, run_alert_cycle
from alerts.retry import RetryPolicy
from alerts.worker import DeliveryReport, DeliveryWorker
from config.loader import parse_monitors
from config.monitors import Monitors
from store import schema_alerts
from tests.alerts.servers import CaptureServer

T0 = datetime(2025, 3, 1, 0, 0, tzinfo=timezone.utc)
MINUTE = timedelta(minutes=1)
ENV = {"PD_KEY": "pd-routing-key-secret", "SLACK_URL": ""}


def model_entry(name: str, slos: list[dict[str, Any]] | None = None, team: str = "payments-ml") -> dict[str, Any]:
    return {
        "name": name, "task": "binary", "positive_class": "1", "team": team,
        "features": [{"name": "amount", "type": "numeric"}], "slices": ["country"],
        "slos": slos if slos is not None else [{"name": "availability", "kind": "availability", "objective": 0.999}],
    }


def make_monitors(pd_url: str, slack_url: str, models: list[dict[str, Any]] | None = None, **routes: Any) -> Monitors:
    """Pages to a PagerDuty-shaped receiver, tickets to Slack, grouped by model and SLO."""
    tree = {"receiver": "pagerduty", "group_by": ["model", "slo", "severity"], "group_wait": "30s",
            "group_interval": "1m", "repeat_interval": "4h",
            "routes": [{"receiver": "slack", "matchers": ['severity="ticket"']}], **routes}
    return parse_monitors({
        "version": 1, "dashboard_url": "http://dashboard.local", "models": models or [model_entry("fraud")],
        "routes": tree,
        "receivers": [
            {"name": "pagerduty", "type": "pagerduty", "routing_key_env": "PD_KEY", "url": f"{pd_url}/v2/enqueue", "timeout_s": 2},
            {"name": "slack", "type": "slack", "webhook_url_env": "SLACK_URL", "timeout_s": 2},
        ],
    })


@dataclass
class Harness:
    """The cycle and the worker on one database, on a clock the test moves."""

    engine: Engine
    monitors: Monitors
    pd: CaptureServer
    slack: CaptureServer
    now: datetime = T0
    reports: list[CycleReport] = field(default_factory=list)
    worker: DeliveryWorker | None = None

    def __post_init__(self) -> None:
        env = {**ENV, "SLACK_URL": f"{self.slack.url}/slack"}
        self.worker = DeliveryWorker(self.engine, alerting_config(self.monitors), env=env, rng=random.Random(7),
                                     policy=RetryPolicy(base=timedelta(seconds=5), cap=timedelta(minutes=2)),
                                     clock=lambda: self.now)

    def at_minute(self, minute: int) -> datetime:
        """A cycle a few seconds after minute ``minute`` of the stream is complete."""
        return T0 + (minute + 1) * MINUTE + timedelta(seconds=5)

    def cycle(self, now: datetime | None = None) -> CycleReport:
        self.now = now or self.now
        report = run_alert_cycle(self.engine, self.monitors, self.now)
        self.reports.append(report)
        return report

    def deliver(self) -> DeliveryReport:
        assert self.worker is not None
        total = DeliveryReport()
        while True:  # drain what is due now (ordered rows come due one pass after another)
            report = self.worker.deliver_due(self.now)
            total = DeliveryReport(*(a + b for a, b in zip(total.__dict__.values(), report.__dict__.values())))
            if report.sent == 0:
                return total

    def run(self, minutes: range) -> None:
        for minute in minutes:
            self.cycle(self.at_minute(minute))
            self.deliver()

    def outbox(self) -> list[sa.Row]:
        """Notifications rows, typed (times as aware datetimes), oldest first."""
        n = schema_alerts.notifications
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(n).order_by(n.c.id)))

    def rows(self, sql: str, **params: Any) -> list[sa.Row]:
        with self.engine.connect() as conn:
            return list(conn.execute(sa.text(sql), params))


@pytest.fixture
def pd_server() -> Iterator[CaptureServer]:
    with CaptureServer() as server:
        yield server


@pytest.fixture
def slack_server() -> Iterator[CaptureServer]:
    with CaptureServer() as server:
        yield server


def pd_events(server: CaptureServer) -> list[tuple[str, str]]:
    """(event_action, dedup_key) of every request the PagerDuty-shaped server received."""
    return [(r.json()["event_action"], r.json()["dedup_key"]) for r in server.requests]
