"""Fixtures for alert tests: loopback servers and a ready-made SLO page notification."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from alerts.alert import Alert
from alerts.labels import Labels
from alerts.notification import Notification
from alerts.render import Deploy, PageContext, SliceBurn, WindowBurnView, render_page
from alerts.alert import AlertStatus
from tests.alerts.servers import CaptureServer, SmtpServer

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "alertmanager: needs Debian's prometheus-alertmanager binary (started by the test)")


@pytest.fixture
def http_server() -> Iterator[CaptureServer]:
    with CaptureServer() as server:
        yield server


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def page_labels(**overrides: str) -> Labels:
    labels = {
        "alertname": "SLOBurnRate",
        "model": "fraud-detector",
        "version": "v7",
        "slo": "availability",
        "sli": "availability",
        "kind": "slo",
        "severity": "page",
        "team": "payments-ml",
    }
    return Labels({**labels, **overrides})


def make_notification(status: AlertStatus = AlertStatus.firing, receiver: str = "oncall", **label_overrides: str) -> Notification:
    labels = page_labels(**label_overrides)
    started = NOW - timedelta(minutes=3)
    alert = Alert(labels, started, Labels(summary="SLO availability is burning"), None if status is AlertStatus.firing else NOW)
    context = PageContext(
        model="fraud-detector",
        slo="availability",
        sli="availability",
        severity=labels["severity"],
        objective=0.999,
        status=status,
        now=NOW,
        burns=(WindowBurnView(timedelta(hours=1), 33.3, 14.4), WindowBurnView(timedelta(minutes=5), 1000.0, 14.4)),
        budget_remaining=0.42,
        time_to_exhaustion=timedelta(hours=30),
        worst_slices=(SliceBurn("country=BR", 120.0, 5400),),
        recent_deploys=(Deploy("v7", NOW - timedelta(minutes=20), "new threshold"),),
        dashboard_url="http://dashboard.local/slo/availability",
        runbook_url="http://wiki.local/runbooks/availability",
        version="v7",
    )
    return Notification(
        receiver=receiver,
        group_key='{}/{severity="page"}[0]:{slo="availability"}',
        group_labels=Labels(slo="availability"),
        alerts=(alert,),
        content=render_page(context),
        created_at=NOW,
        dashboard_url="http://dashboard.local/slo/availability",
    )


@pytest.fixture
def firing() -> Notification:
    return make_notification(AlertStatus.firing)


@pytest.fixture
def resolved() -> Notification:
    return make_notification(AlertStatus.resolved)
