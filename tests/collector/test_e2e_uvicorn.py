"""The collector as served: uvicorn on loopback, real sockets, the real SDK client."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import uvicorn
from sqlalchemy.engine import Engine

import modelwatch
from collector.app import create_app
from store.reads import model_summary
from store.tokens import create_token
from tests.collector.conftest import FRAUD, batch, fraud_record, make_settings, monitors_for_tests
from tests.conftest import free_port, wait_for_port


@dataclass
class Served:
    url: str
    engine: Engine
    token: str


@pytest.fixture
def served(engine: Engine) -> Iterator[Served]:
    app = create_app(make_settings(max_records_per_batch=10_000, max_body_bytes=8 * 1024 * 1024),
                     engine=engine, monitors=monitors_for_tests())
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for_port("127.0.0.1", port, timeout=20)
        yield Served(f"http://127.0.0.1:{port}", engine, create_token(engine, ["ingest", "read"], "e2e"))
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_sdk_to_collector_to_store(served: Served) -> None:
    client = modelwatch.Client(served.url, served.token, FRAUD, "2026-11-20.1", batch_size=200,
                               flush_interval=0.2, flush_at_exit=False, debug=True)
    n = 1000
    try:
        for i in range(n):
            client.log_prediction(
                f"req-{i}", {"amount": float(i), "country": "DE", "channel": "ios", "customer_email": f"u{i}@example.com"},
                prediction="1" if i % 3 else "0", score=0.5, latency_ms=float(i % 40),
                error=None if i % 50 else "timeout", slices={"channel": "ios"})
        for i in range(0, n, 2):
            client.log_label(f"req-{i}", "1")
        assert client.flush(timeout=30)
    finally:
        client.close(timeout=10)
    assert client.stats().dropped == {}
    summary = model_summary(served.engine, FRAUD, _ago(3600), _ago(-3600))
    assert (summary.predictions, summary.labels, summary.requests, summary.errors) == (n, n // 2, n, n // 50)
    assert summary.versions == ("2026-11-20.1",)


def test_plain_http_client_and_keep_alive(served: Served) -> None:
    headers = {"Authorization": f"Bearer {served.token}"}
    with httpx.Client(base_url=served.url, headers=headers, timeout=10) as http:
        body = batch([fraud_record(f"h{i}") for i in range(5000)])
        first = http.post("/v1/predictions", json=body)
        assert first.status_code == 200, first.text
        assert first.json() == {"accepted": 5000, "duplicates": 0, "rejected": []}
        assert http.post("/v1/predictions", json=body).json()["duplicates"] == 5000
        assert http.get("/readyz").status_code == 200
        assert http.get("/v1/models").status_code == 200


def _ago(seconds: float):  # type: ignore[no-untyped-def]
    from datetime import datetime, timedelta, timezone

    return datetime.now(timezone.utc) - timedelta(seconds=seconds)
