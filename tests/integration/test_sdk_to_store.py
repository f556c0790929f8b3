"""The SDK against a real collector process over a real database, including the faults the
issue names: the database stopped mid-run, the collector SIGKILLed mid-batch."""

from __future__ import annotations

import random
import threading
import time
import uuid

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

import modelwatch
from modelwatch.sampling import is_sampled
from store.engine import create_engine

FEATURES = {"amount": 12.5, "account_age_days": 400, "country": "DE", "channel": "web", "payment_method": "card"}


def _client(collector, token: str, **options) -> modelwatch.Client:
    options.setdefault("flush_interval", 0.2)
    options.setdefault("retry_deadline", 120.0)
    options.setdefault("backoff_cap", 1.0)
    return modelwatch.Client(collector.url, token, "fraud-detector", "v1", debug=True, flush_at_exit=False, **options)


def _scalar(engine: Engine, sql: str, **params) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar_one()


def _ids(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return {row[0] for row in conn.execute(sa.text("SELECT prediction_id FROM predictions"))}


def test_sdk_ships_sampled_payloads_and_exact_counters(collector, store, ingest_token):
    client = _client(collector, ingest_token, sample_rate=0.5)
    ids = [f"req-{i}" for i in range(2000)]
    for i, prediction_id in enumerate(ids):
        client.log_prediction(prediction_id, FEATURES, "1" if i % 3 else "0", score=0.7, latency_ms=3.0 + i % 50,
                              error="Timeout" if i % 100 == 0 else None)
    for prediction_id in ids[:500]:
        client.log_label(prediction_id, "1")
    assert client.flush(timeout=60)
    client.close()

    sampled = [p for p in ids if is_sampled(p, 0.5)]
    assert 800 < len(sampled) < 1200
    assert _scalar(store, "SELECT count(*) FROM predictions") == len(sampled)
    assert _scalar(store, "SELECT count(*) FROM predictions WHERE weight <> 2.0") == 0
    assert _ids(store) == set(sampled)
    # Counters are exact: every call counted, sampled or not.
    assert _scalar(store, "SELECT sum(requests) FROM request_counters") == 2000
    assert _scalar(store, "SELECT sum(errors) FROM request_counters") == 20
    assert _scalar(store, "SELECT count(*) FROM labels") >= len([p for p in ids[:500] if is_sampled(p, 0.5)])

    summary = httpx.get(f"{collector.url}/v1/models/fraud-detector/summary",
                        headers={"Authorization": f"Bearer {ingest_token}"}, timeout=10).json()
    assert summary["requests"] == 2000 and summary["predictions"] == len(sampled)


@pytest.mark.postgres
def test_database_down_mid_run_loses_nothing(postgres_server, pg_database_url, tmp_path):
    from store.bootstrap import create_schema
    from store.tokens import create_token
    from tests.integration.conftest import CollectorProcess
    from tests.conftest import REPO_ROOT

    engine = create_engine(pg_database_url)
    create_schema(engine)
    token = create_token(engine, scopes=["ingest"], name="outage")
    collector = CollectorProcess(pg_database_url, REPO_ROOT / "examples" / "monitors.yaml", tmp_path / "c.log")
    collector.start()
    client = _client(collector, token, batch_size=100)
    try:
        for i in range(500):
            client.log_prediction(f"before-{i}", FEATURES, "1", latency_ms=2.0)
        assert client.flush(timeout=30)

        postgres_server.stop()
        try:
            response = httpx.post(f"{collector.url}/v1/predictions", timeout=30,
                                  headers={"Authorization": f"Bearer {token}"},
                                  json={"model": "fraud-detector", "version": "v1", "batch_id": "x",
                                        "records": [{"prediction_id": "probe", "features": FEATURES}]})
            assert response.status_code == 503
            assert int(response.headers["Retry-After"]) >= 1
            for i in range(500):
                client.log_prediction(f"during-{i}", FEATURES, "1", latency_ms=2.0)
            assert not client.flush(timeout=2), "nothing can be acknowledged while the database is down"
        finally:
            postgres_server.start()

        assert client.flush(timeout=90)
        engine.dispose()
        assert _scalar(engine, "SELECT count(*) FROM predictions") == 1000
        assert _scalar(engine, "SELECT count(DISTINCT prediction_id) FROM predictions") == 1000
        assert _scalar(engine, "SELECT count(*) FROM predictions WHERE prediction_id = 'probe'") == 0
        assert _scalar(engine, "SELECT sum(requests) FROM request_counters") == 1000
        assert client.stats().dropped == {}
    finally:
        client.close()
        collector.stop()
        engine.dispose()


def _post_batches(base_url: str, token: str, acked: list[str], stop: threading.Event) -> None:
    """Raw batches, recording exactly which rows the collector acknowledged."""
    with httpx.Client(base_url=base_url, timeout=10, headers={"Authorization": f"Bearer {token}"}) as http:
        while not stop.is_set():
            ids = [uuid.uuid4().hex for _ in range(200)]
            body = {"model": "fraud-detector", "version": "v1", "batch_id": uuid.uuid4().hex,
                    "records": [{"prediction_id": i, "features": FEATURES, "prediction": "1"} for i in ids]}
            try:
                response = http.post("/v1/predictions", json=body)
            except httpx.TransportError:
                return  # the collector died mid-request: that batch was never acknowledged
            if response.status_code == 200:
                acked.extend(ids)


def test_collector_sigkill_mid_batch_keeps_every_acknowledged_row(collector, store, ingest_token):
    acked: list[str] = []
    stop = threading.Event()
    sender = threading.Thread(target=_post_batches, args=(collector.url, ingest_token, acked, stop))
    client = _client(collector, ingest_token, batch_size=50)
    sender.start()
    sdk_ids = []
    deadline = time.monotonic() + random.uniform(0.8, 2.0)
    while time.monotonic() < deadline:
        sdk_ids.append(f"sdk-{len(sdk_ids)}")
        client.log_prediction(sdk_ids[-1], FEATURES, "0", latency_ms=1.0)
        time.sleep(0.0005)
    collector.kill()
    stop.set()
    sender.join(timeout=30)

    assert acked, "the collector acknowledged nothing before the kill"
    missing = set(acked) - _ids(store)
    assert not missing, f"{len(missing)} acknowledged rows lost"

    # The SDK kept its unacknowledged batches and delivers them once the collector is back.
    for i in range(100):
        sdk_ids.append(f"sdk-after-{i}")
        client.log_prediction(sdk_ids[-1], FEATURES, "0", latency_ms=1.0)
    collector.start()
    assert client.flush(timeout=90)
    client.close()
    store.dispose()
    stored_sdk = _scalar(store, "SELECT count(*) FROM predictions WHERE prediction_id LIKE 'sdk-%'")
    assert stored_sdk == len(sdk_ids)
    assert _scalar(store, "SELECT count(*) - count(DISTINCT prediction_id) FROM predictions") == 0
    assert _scalar(store, "SELECT sum(requests) FROM request_counters") == len(sdk_ids)
