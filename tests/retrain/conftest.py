"""A simulated day of drift: hourly drift findings in a real store, the alert cycle every few
minutes on a moving clock, and the real delivery worker sending to loopback receivers (a
retrain webhook and a Slack-shaped channel)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from alerts.cycle import alerting_config, run_alert_cycle
from alerts.retry import RetryPolicy
from alerts.worker import DeliveryWorker
from config.loader import parse_monitors
from config.monitors import Monitors
from store import schema
from store.upsert import insert_or_ignore
from tests.alerts.servers import CaptureServer
from tests.alerts_io.conftest import slack_server  # noqa: F401 (fixture)

T0 = datetime(2025, 3, 1, 0, 0, tzinfo=timezone.utc)
H = timedelta(hours=1)
SECRET = "retrain-hmac-secret"
MODELS = ("fraud", "churn")


def model_entry(name: str) -> dict[str, Any]:
    return {"name": name, "task": "binary", "positive_class": "1", "team": "ml",
            "features": [{"name": "amount", "type": "numeric"}, {"name": "country", "type": "categorical"},
                         {"name": "device", "type": "categorical"}],
            "slos": []}


def make_monitors(retrain_url: str, slack_url: str, **policy: Any) -> Monitors:
    """Drift of amount or country goes to the retrain webhook (grouped per model, re-checked every
    30 minutes); every ticket goes to Slack too."""
    retrain = {"name": "retrain", "type": "retrain", "url": f"{retrain_url}/hooks/retrain", "secret_env": "RETRAIN_SECRET",
               "timeout_s": 2, "cooldown": "4h", "max_per_day": 3, **policy}
    return parse_monitors({
        "version": 1, "dashboard_url": "http://dashboard.local", "models": [model_entry(m) for m in MODELS],
        "routes": {
            "receiver": "slack", "group_by": ["model", "alertname"], "group_wait": "30s", "group_interval": "5m",
            "repeat_interval": "4h",
            "routes": [
                {"receiver": "retrain", "group_by": ["model"], "repeat_interval": "30m", "continue": True,
                 "matchers": ['alertname="FeatureDrift"', 'feature=~"amount|country"']},
                {"receiver": "slack", "matchers": ['severity="ticket"']},
            ],
        },
        "receivers": [{"name": "slack", "type": "slack", "webhook_url_env": "SLACK_URL", "timeout_s": 2}, retrain],
    })


def drift_value(model: str, feature: str, hour: int) -> float:
    """A PSI that grows a little each hour (so each trigger carries that hour's figure)."""
    return round(0.25 + 0.01 * hour + (0.1 if model == "churn" else 0.0) + (0.05 if feature == "device" else 0.0), 4)


def seed_window(engine: Engine, model: str, feature: str, end: datetime, drifted: bool) -> None:
    """One hourly drift result (PSI against a 0.2 threshold) ending at ``end``."""
    hour = int((end - T0) / H)
    row = {"model": model, "version": "v3", "window_start": end - H, "window_end": end, "slice_key": "",
           "slice_value": "", "kind": "drift", "metric": "psi", "feature": feature,
           "value": drift_value(model, feature, hour) if drifted else 0.03, "threshold": 0.2,
           "status": "drift" if drifted else "no_drift", "n": 5000, "details": None, "computed_at": end}
    with engine.begin() as conn:
        insert_or_ignore(conn, schema.analysis_results, [row])


@dataclass
class Simulation:
    """The cycle and the delivery worker on one store, on a clock the test moves."""

    engine: Engine
    monitors: Monitors
    slack: CaptureServer
    now: datetime = T0
    worker: DeliveryWorker = field(init=False)

    def __post_init__(self) -> None:
        env = {"SLACK_URL": f"{self.slack.url}/slack", "RETRAIN_SECRET": SECRET}
        alerting = alerting_config(self.monitors)
        assert alerting is not None
        self.worker = DeliveryWorker(self.engine, alerting, env=env, rng=random.Random(3),
                                     policy=RetryPolicy(base=timedelta(seconds=5), cap=timedelta(minutes=1)),
                                     clock=lambda: self.now)

    def step(self, now: datetime) -> None:
        """One scheduler tick: the alert cycle, then deliver everything due."""
        self.now = now
        run_alert_cycle(self.engine, self.monitors, now)
        while self.worker.deliver_due(now).claimed:
            pass


@pytest.fixture
def retrain_server() -> Iterator[CaptureServer]:
    with CaptureServer() as server:
        yield server
