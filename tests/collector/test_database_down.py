"""Database unreachable -> 503 with Retry-After and nothing acknowledged; back -> accepted."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy.engine import Engine

from store.engine import create_engine
from tests.collector.conftest import Collector, batch, fraud_record


@pytest.fixture
def unreachable_engine() -> Iterator[Engine]:
    # Port 1 on loopback: a real refused connection, not a mock.
    engine = create_engine("postgresql+psycopg://x@127.0.0.1:1/x", connect_args={"connect_timeout": 2})
    yield engine
    engine.dispose()


def test_collector_starts_without_a_database_and_says_so(unreachable_engine: Engine) -> None:
    from fastapi.testclient import TestClient

    from collector.app import create_app
    from tests.collector.conftest import make_settings, monitors_for_tests

    app = create_app(make_settings(), engine=unreachable_engine, monitors=monitors_for_tests())
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/healthz").status_code == 200
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.headers["retry-after"] == "7"
        r = client.post("/v1/predictions", json=batch([fraud_record("a")]),
                        headers={"Authorization": "Bearer mw_some-token-that-cannot-be-checked"})
        assert r.status_code == 503
        assert r.headers["retry-after"] == "7"
        assert r.json()["error"].startswith("database unavailable")
        metrics = client.get("/metrics").text
        assert "modelwatch_database_unavailable_total 1.0" in metrics


@pytest.mark.postgres
def test_server_stopped_mid_run_gives_503_then_recovers_without_duplicates(
        pg_engine: Engine, postgres_server, start_collector: Callable[..., Collector]) -> None:  # type: ignore[no-untyped-def]
    c = start_collector(pg_engine)
    first = batch([fraud_record("before")])
    assert c.post("/v1/predictions", first).json()["accepted"] == 1  # token now cached
    body = batch([fraud_record("during-1"), fraud_record("during-2")])
    postgres_server.stop()
    try:
        r = c.post("/v1/predictions", body)
        assert r.status_code == 503
        assert r.headers["retry-after"] == "7"
        assert c.client.get("/readyz").status_code == 503
        assert c.client.get("/healthz").status_code == 200
    finally:
        postgres_server.start()
    assert c.client.get("/readyz").status_code == 200
    retry = c.post("/v1/predictions", body)
    assert retry.status_code == 200
    assert retry.json() == {"accepted": 2, "duplicates": 0, "rejected": []}
    assert c.post("/v1/predictions", body).json()["duplicates"] == 2
    ids = [row.prediction_id for row in c.rows("SELECT prediction_id FROM predictions ORDER BY 1")]
    assert ids == ["before", "during-1", "during-2"]
