"""The issue's test: a version not in the expected list pages, and the page resolves once that
traffic stops.

Everything is real: a ``modelwatch collector`` process on loopback over SQLite or PostgreSQL, two
``modelwatch.Client`` instances (versions v1 and v2) sending predictions and counters over HTTP,
a deploy of v2 recorded through ``POST /v1/deploys`` with its artifact digest, the alert cycle
(``run_alert_cycle``), the delivery worker, and a generic webhook receiver on loopback that gets
the page. Only the alert cycle's clock is moved, to step past the 15-minute lookback.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
import yaml
from sqlalchemy.engine import Engine

import modelwatch
from alerts.cycle import alerting_config, run_alert_cycle
from alerts.worker import DeliveryWorker
from config.loader import load_monitors
from store.types import utc_now
from tests.alerts.servers import CaptureServer
from tests.conftest import REPO_ROOT
from tests.deploys.conftest import SHA
from tests.integration.conftest import CollectorProcess
from tests.integration.conftest import database_url, store  # noqa: F401 -- fixtures: SQLite and PostgreSQL

MODEL = "fraud-detector"
FEATURES = {"amount": 12.5, "account_age_days": 400, "items_in_cart": 2, "hour_of_day": 14, "ip_risk_score": 0.1,
            "country": "DE", "channel": "web", "payment_method": "card"}

pytestmark = pytest.mark.timeout(300)


def monitors_file(path: Path, webhook_url: str) -> Path:
    """The shipped example's model (its schema only: no SLOs, costs...) with ``expected_versions:
    [v1]``, and every alert to one webhook."""
    document = yaml.safe_load((REPO_ROOT / "examples" / "monitors.yaml").read_text())
    example = document["models"][0]
    keep = ("name", "task", "classes", "positive_class", "team", "features", "slices", "pii")
    document["models"] = [{**{k: example[k] for k in keep if k in example}, "expected_versions": ["v1"]}]
    document["routes"] = {"receiver": "oncall", "group_by": ["model", "alertname", "version"], "group_wait": "0s",
                          "group_interval": "1m", "repeat_interval": "4h"}
    document["receivers"] = [{"name": "oncall", "type": "webhook", "url": webhook_url, "timeout_s": 5}]
    document.pop("inhibit_rules", None)
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


@pytest.fixture
def webhook() -> Iterator[CaptureServer]:
    with CaptureServer() as server:
        yield server


def send(url: str, token: str, version: str, n: int) -> None:
    client = modelwatch.Client(url, token, MODEL, version, flush_interval=0.2, flush_at_exit=False, debug=True)
    for i in range(n):
        client.log_prediction(f"{version}-{i}", FEATURES, "0", score=0.1, latency_ms=4.0)
    assert client.flush(timeout=60)
    client.close()


def test_a_version_outside_the_expected_list_pages_and_resolves(store: Engine, database_url: str, tmp_path: Path,
                                                               webhook: CaptureServer) -> None:
    from store.tokens import create_token

    config = monitors_file(tmp_path / "monitors.yaml", f"{webhook.url}/hook")
    collector = CollectorProcess(database_url, config, tmp_path / "collector.log")
    collector.start()
    try:
        token = create_token(store, ["ingest"], "deploy-bot")
        recorded = httpx.post(f"{collector.url}/v1/deploys", json={"model": MODEL, "version": "v2", "artifact_sha256": SHA,
                                                                   "note": "canary by hand"},
                              headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert recorded.status_code == 201, recorded.text
        send(collector.url, token, "v1", 40)
        send(collector.url, token, "v2", 7)
    finally:
        collector.stop()
    with store.connect() as conn:
        deploys = conn.execute(sa.text("SELECT version, source, actor FROM deploys ORDER BY version")).all()
    # v1 was never recorded: its first traffic inferred the deploy; v2's recorded deploy stands alone.
    assert [tuple(r) for r in deploys] == [("v1", "sdk", "sdk"), ("v2", "api", "token:deploy-bot")]

    monitors = load_monitors(config)
    now = utc_now()
    worker = DeliveryWorker(store, alerting_config(monitors), clock=lambda: now)
    report = run_alert_cycle(store, monitors, now)
    assert report.firing == 1 and report.enqueued == 1
    assert worker.deliver_due(now).sent == 1
    [page] = [r.json() for r in webhook.wait_for(1, timeout=10)]
    assert page["status"] == "firing"
    [alert] = page["alerts"]
    assert alert["labels"] == {"alertname": "UnexpectedModelVersion", "model": MODEL, "version": "v2",
                               "severity": "page", "team": "payments-ml"}
    assert alert["annotations"]["summary"].startswith(f"{MODEL} served 7 request(s) from version v2 in the last 15m; "
                                                      f"expected: v1 (artifact sha256 {SHA[:12]})")
    assert "UnexpectedModelVersion firing" in page["title"] and "version=v2" in page["title"]

    # Still serving within the lookback: still firing, nothing new sent (repeat_interval 4h).
    later = now + timedelta(minutes=5)
    assert run_alert_cycle(store, monitors, later).firing == 1
    assert worker.deliver_due(later).sent == 0
    # No v2 request in the last 15 minutes: the page resolves, and the receiver hears it.
    quiet = now + timedelta(minutes=16)
    assert run_alert_cycle(store, monitors, quiet).firing == 0
    assert worker.deliver_due(quiet).sent == 1
    resolved = webhook.wait_for(2, timeout=10)[1].json()
    assert resolved["status"] == "resolved" and resolved["alerts"][0]["labels"]["version"] == "v2"
    assert len(webhook.requests) == 2

