"""The real SDK sends traffic of two versions to a real collector process (``modelwatch
collector`` over HTTP on loopback, SQLite and PostgreSQL); GET /cost prices exactly what was
sent: every call counted, sampled or not."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy.engine import Engine

import modelwatch
from analysis.cost import floor_hour
from store.tokens import create_token
from store.types import utc_now
from tests.cost.conftest import COSTS, PRICED, model_entry
from tests.integration.conftest import CollectorProcess

pytestmark = pytest.mark.timeout(180)
CALLS = {"v1": 1500, "v2": 1234}


def send(url: str, token: str, version: str, calls: int) -> None:
    client = modelwatch.Client(url, token, PRICED, version, sample_rate=0.1, flush_interval=0.2, debug=True,
                               flush_at_exit=False)
    for i in range(calls):
        client.log_prediction(f"{version}-{i}", {"amount": float(i)}, "1", score=0.8, latency_ms=2.0)
    assert client.flush(timeout=60)
    client.close()


def test_sdk_traffic_is_priced_from_the_exact_counters(store: Engine, database_url: str, tmp_path: Path) -> None:
    config = tmp_path / "monitors.yaml"
    config.write_text(yaml.safe_dump({"version": 1, "models": [model_entry(PRICED, COSTS)]}))
    collector = CollectorProcess(database_url, config, tmp_path / "collector.log")
    token = create_token(store, scopes=["ingest", "read"], name="cost-e2e")
    collector.start()
    try:
        started = utc_now()
        for version, calls in CALLS.items():
            send(collector.url, token, version, calls)
        ended = utc_now()
        body = httpx.get(f"{collector.url}/v1/models/{PRICED}/cost", headers={"Authorization": f"Bearer {token}"},
                         timeout=10).json()
    finally:
        collector.stop()
    v1, v2 = body["versions"]
    assert (v1["requests"], v2["requests"], body["requests"]) == (1500, 1234, 2734)
    # Both versions served within this hour (or, across an hour boundary, in one or both).
    hours = {1} if floor_hour(started) == floor_hour(ended) else {1, 2}
    assert v1["active_hours"] in hours and v2["active_hours"] in hours
    assert v1["cost"] == pytest.approx(v1["active_hours"] * 3.20)
    assert v2["cost"] == pytest.approx(v2["active_hours"] * 1.50 + 1234 * 0.0001)
    assert body["per_1k_predictions"] == pytest.approx((v1["cost"] + v2["cost"]) / 2734 * 1000)
    assert body["today"]["spent"] == pytest.approx(body["days"][-1]["cost"])
