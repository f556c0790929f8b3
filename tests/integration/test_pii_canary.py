"""PII canary, end to end: e-mails, phone and card numbers sent through the SDK (no client-side
policy: the collector must do it) to a real ``modelwatch collector`` process, in features, free
text, slice values, error text, prediction ids (with labels sent for them) and a reference
upload; then the analysis cycle, the alert cycle and the delivery worker run, paging a loopback
webhook. None of the canaries may appear in any column of any table, in the collector's
stdout/stderr, in Python logging, or in a delivered page; labels sent for an e-mail or phone id
still join their predictions (both stored as the id's keyed hash).
"""

from __future__ import annotations

import json
import logging
import os
import random
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
import yaml
from sqlalchemy.engine import Engine

import modelwatch
from alerts.cycle import alerting_config, run_alert_cycle
from alerts.worker import DeliveryWorker
from analysis.jobs.cycle import run_cycle
from analysis.jobs.run import RunContext
from config.loader import load_monitors
from modelwatch.redact import hash_value
from store.audit import read_audit
from tests.alerts.servers import CaptureServer
from tests.conftest import REPO_ROOT, free_port, wait_for_port

EMAIL = "canary.person@example.org"
PHONE = "+49 30 98765432"
CARD = "4539 1488 0343 6467"
ID_EMAIL = "id.canary@example.net"  # serving code that uses a customer's e-mail or phone as the id
ID_PHONE = "+44 20 7946 0958"
CANARIES = (EMAIL, "canary.person", PHONE, "98765432", CARD, "4539148803436467", "4539-1488-0343-6467",
            ID_EMAIL, "id.canary", ID_PHONE, "20 7946 0958")
PII_KEY = "canary-hmac-key"
WEBHOOK_SECRET = "canary-webhook-secret"
MODEL = "checkout"


def monitors_yaml(webhook_url: str) -> dict:
    return {
        "version": 1, "dashboard_url": "http://127.0.0.1:8501",
        "models": [{
            "name": MODEL, "task": "binary", "classes": ["0", "1"], "positive_class": "1", "team": "payments",
            "features": [
                {"name": "amount", "type": "numeric"},
                {"name": "payment_method", "type": "categorical"},
                {"name": "customer_email", "type": "text"},
                {"name": "shipping_note", "type": "text"},
                {"name": "support_message", "type": "text"},
            ],
            "slices": ["channel"],
            "pii": {"fields": {"customer_email": "hash", "shipping_note": "mask"}, "detectors": ["email", "phone", "card"]},
            "analysis": {"schedule": {"window": "10m", "delay": "1m", "catchup": "3h"}},
            "slos": [{"name": "availability", "kind": "availability", "objective": 0.99}],
        }],
        "routes": {"receiver": "hook", "group_by": ["model", "slo"], "group_wait": "1s", "group_interval": "1m",
                   "repeat_interval": "4h"},
        "receivers": [{"name": "hook", "type": "webhook", "url": webhook_url, "secret_env": "MODELWATCH_WEBHOOK_SECRET"}],
    }


def features(i: int) -> dict:
    # Every way a canary can hide in a record: a hashed field, a masked field, a categorical
    # value (detectors), free text (detectors), numbers written with and without separators.
    return {"amount": float(i % 50), "payment_method": [f"card {CARD}", "paypal", EMAIL][i % 3],
            "customer_email": EMAIL, "shipping_note": f"call {PHONE}",
            "support_message": f"I am {EMAIL}, card {CARD.replace(' ', '')}, phone {PHONE}"}


def dump_database(engine: Engine) -> str:
    """Every column of every row of every table, as text (JSON columns as their JSON)."""
    out = []
    with engine.connect() as conn:
        for table in sa.inspect(conn).get_table_names():
            for row in conn.execute(sa.text(f'SELECT * FROM "{table}"')):
                out.append(f"{table}: " + json.dumps([v if isinstance(v, (str, int, float, dict, list, type(None)))
                                                     else repr(v) for v in row], default=str, ensure_ascii=False))
    return "\n".join(out)


def assert_clean(where: str, text: str) -> None:
    leaked = [c for c in CANARIES if c in text]
    assert not leaked, f"{leaked} found in {where}"


@pytest.fixture
def webhook():
    with CaptureServer() as server:
        yield server


def test_canaries_reach_no_table_log_or_page(store: Engine, database_url: str, webhook: CaptureServer,
                                             tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    config = tmp_path / "monitors.yaml"
    config.write_text(yaml.safe_dump(monitors_yaml(f"{webhook.url}/hook")))
    monitors = load_monitors(config)
    from store.tokens import create_token

    token = create_token(store, ["ingest", "read", "admin"], "canary")
    port = free_port()
    log_path = tmp_path / "collector.log"
    env = {**os.environ, "MODELWATCH_PII_KEY": PII_KEY, "MODELWATCH_LOG_LEVEL": "debug"}
    with open(log_path, "wb") as log:
        collector = subprocess.Popen([sys.executable, "-m", "modelwatch.cli", "collector", "--db", database_url,
                                      "--config", str(config), "--port", str(port)],
                                     cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port("127.0.0.1", port, timeout=60)
        url = f"http://127.0.0.1:{port}"
        # A reference upload carrying canaries too (CSV through the API).
        csv = "amount,payment_method,customer_email,shipping_note,support_message\n" + "".join(
            f"{i},{'paypal' if i % 2 else EMAIL},{EMAIL},call {PHONE},card {CARD}\n" for i in range(200))
        r = httpx.post(f"{url}/v1/references", params={"model": MODEL, "name": "default"}, content=csv.encode(),
                       headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"}, timeout=30)
        assert r.status_code in (200, 201), r.text

        # Rows the collector refuses still must not echo or log a canary: one in a field name,
        # one in a value of the wrong type.
        bad = {"model": MODEL, "version": "v1", "batch_id": "bad", "records": [
            {"prediction_id": "bad-1", "features": {EMAIL: 1.0}},
            {"prediction_id": "bad-2", "features": {"amount": f"card {CARD}"}}]}
        r = httpx.post(f"{url}/v1/predictions", json=bad, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert r.status_code == 422 and len(r.json()["detail"]) == 2, r.text
        assert_clean("a rejection", r.text)

        # Two hours of traffic ending now; the last 20 minutes fail half the time, with canaries
        # in the error text, so the availability SLO pages.
        now = datetime.now(timezone.utc)
        start = now - timedelta(hours=2)
        client = modelwatch.Client(url, token, MODEL, "v1", debug=True, flush_at_exit=False, flush_interval=0.2)
        rng = random.Random(7)
        n = 1200
        ids = [f"req-{uuid.UUID(int=rng.getrandbits(128)).hex[:12]}" for _ in range(n)]
        ids[3], ids[4] = ID_EMAIL, ID_PHONE
        for i in range(n):
            at = start + timedelta(seconds=i * 6)
            failing = at > now - timedelta(minutes=20) and i % 2 == 0
            client.log_prediction(
                ids[i], features(i), "1" if i % 3 else "0",
                score=rng.random(), latency_ms=5.0,
                error=f"payment for {EMAIL} with card {CARD} failed, call {PHONE}" if failing else None,
                slices={"channel": [PHONE, "web", f"mail {EMAIL}"][i % 3]}, timestamp=at.timestamp())
        labelled = ids[:10]  # the two PII ids among them
        for pid in labelled:
            client.log_label(pid, "1")
        assert client.flush(timeout=60)
        client.close()

        # The scheduler's work: analysis windows, then the alert cycle, then delivery.
        report = run_cycle(RunContext(store, "canary-scheduler"), monitors, now + timedelta(minutes=2), alerts=False)
        assert report.outcomes and not report.failed_models, report
        cycle = run_alert_cycle(store, monitors, now + timedelta(seconds=30))
        assert cycle.firing >= 1, cycle
        run_alert_cycle(store, monitors, now + timedelta(seconds=45))  # past group_wait: enqueued
        alerting = alerting_config(monitors)
        assert alerting is not None
        worker = DeliveryWorker(store, alerting, env={"MODELWATCH_WEBHOOK_SECRET": WEBHOOK_SECRET})
        deadline = time.monotonic() + 30
        while not webhook.requests and time.monotonic() < deadline:
            worker.deliver_due(now + timedelta(minutes=1))
            time.sleep(0.2)
        pages = webhook.wait_for(1, timeout=5)
    finally:
        collector.terminate()
        collector.wait(timeout=15)

    database = dump_database(store)
    collector_log = log_path.read_text(errors="replace")
    # The pipeline really ran: rows, redaction markers, analysis results, a page with content.
    assert "predictions:" in database and "analysis_results:" in database and "notifications:" in database
    assert "[EMAIL]" in database and "[CARD]" in database and "[PHONE]" in database and "hmac:" in database
    assert "[MASKED]" in database and "reference_rows:" in database
    assert pages and json.loads(pages[0].body)["status"] == "firing"
    assert read_audit(store, "config.load")[0].details["component"] == "collector"
    # PII ids are stored as their keyed hash, and the labels sent for them still join.
    with store.connect() as conn:
        joined = conn.execute(sa.text(
            "SELECT count(*) FROM labels l JOIN predictions p ON p.model = l.model AND p.prediction_id = l.prediction_id"
        )).scalar_one()
    assert joined == len(labelled)
    assert hash_value(ID_EMAIL, PII_KEY.encode()) in database and hash_value(ID_PHONE, PII_KEY.encode()) in database

    assert_clean("the database", database)
    assert_clean("the collector's stdout/stderr", collector_log)
    assert_clean("Python logging", caplog.text)
    for page in pages:
        assert_clean("a delivered page", page.body.decode("utf-8", "replace") + json.dumps(page.headers))
