"""GET /v1/models/{name}/cost on SQLite and PostgreSQL: counters posted through /v1/counters,
figures equal to the hand computation in tests/cost/conftest.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from tests.collector.conftest import Collector
from tests.cost.conftest import PLAIN, PRICED, SEEDED, cost_monitors

APPROX = {"rel": 1e-12, "abs": 1e-12}


def post_counters(c: Collector, version: str, minute: datetime, requests: int, batch_id: str) -> None:
    body = {"model": PRICED, "version": version, "batch_id": batch_id, "bounds_ms": [100],
            "counters": [{"minute": int(minute.timestamp()), "requests": requests}]}
    r = c.post("/v1/counters", body)
    assert r.status_code == 200 and r.json()["accepted"] == 1, r.text


@pytest.fixture
def priced(engine: Engine, start_collector: Callable[..., Collector]) -> Collector:
    c = start_collector(engine, cost_monitors(cost_alerts={"max_per_1k_predictions": 5.0, "max_per_day": 100}))
    for i, (version, minute, requests) in enumerate(SEEDED):
        post_counters(c, version, minute, requests, f"b{i}")
    # The SDK retrying a batch it already delivered: the counters must not count it twice.
    r = c.post("/v1/counters", {"model": PRICED, "version": "v1", "batch_id": "b1", "bounds_ms": [100],
                                "counters": [{"minute": int(SEEDED[1][1].timestamp()), "requests": 400}]})
    assert r.json()["duplicates"] == 1
    return c


def get_cost(c: Collector, **params: str) -> Any:
    return c.client.get(f"/v1/models/{PRICED}/cost", params=params, headers=c.auth("read"))


def test_cost_matches_the_hand_computation(priced: Collector) -> None:
    r = get_cost(priced, **{"from": "2025-02-28T23:15:00Z", "to": "2025-03-01T13:40:00Z"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["model"], body["currency"]) == (PRICED, "USD")
    assert (body["from"], body["to"]) == ("2025-02-28T23:00:00+00:00", "2025-03-01T14:00:00+00:00")  # whole hours
    v1, v2 = body["versions"]
    assert (v1["version"], v1["requests"], v1["active_hours"], v1["per_hour"], v1["per_request"]) == ("v1", 1600, 3, 3.2, None)
    assert v1["fleet_cost"] == pytest.approx(3 * 3.20, **APPROX) and v1["request_cost"] == 0.0
    assert v1["per_1k_predictions"] == pytest.approx(9.60 / 1600 * 1000, **APPROX) == 6.0
    assert (v2["version"], v2["requests"], v2["active_hours"]) == ("v2", 500, 2)
    assert v2["fleet_cost"] == pytest.approx(2 * 1.50, **APPROX)
    assert v2["request_cost"] == pytest.approx(500 * 0.0001, **APPROX)
    assert v2["cost"] == pytest.approx(3.05, **APPROX) and v2["per_1k_predictions"] == pytest.approx(6.10, **APPROX)
    assert (body["requests"], body["unpriced_requests"]) == (2100, 0)
    assert body["cost"] == pytest.approx(9.60 + 3.05, **APPROX)
    assert body["fleet_cost"] == pytest.approx(9.60 + 3.00, **APPROX)
    assert body["per_1k_predictions"] == pytest.approx(12.65 / 2100 * 1000, **APPROX)
    days = [(d["day"], d["requests"], d["complete"], d["from"], d["to"]) for d in body["days"]]
    assert days == [("2025-02-28", 100, False, "2025-02-28T23:00:00+00:00", "2025-03-01T00:00:00+00:00"),
                    ("2025-03-01", 2000, False, "2025-03-01T00:00:00+00:00", "2025-03-01T14:00:00+00:00")]
    assert [d["cost"] for d in body["days"]] == [pytest.approx(3.20, **APPROX), pytest.approx(6.40 + 3.05, **APPROX)]
    assert body["thresholds"] == {"max_per_1k_predictions": 5.0, "max_per_day": 100.0, "severity": "ticket"}
    assert body["today"]["spent"] == 0.0 and body["today"]["projected"] == 0.0  # nothing served today


def test_whole_days_are_complete_and_add_up(priced: Collector) -> None:
    body = get_cost(priced, **{"from": "2025-02-28T00:00:00Z", "to": "2025-03-02T00:00:00Z"}).json()
    assert [(d["day"], d["complete"]) for d in body["days"]] == [("2025-02-28", True), ("2025-03-01", True)]
    # 03-01 now includes the 14:20 batch of v2: 50 more requests, one more fleet hour (14:00)
    assert body["days"][1]["cost"] == pytest.approx(2 * 3.20 + 3 * 1.50 + 550 * 0.0001, **APPROX)
    assert body["cost"] == pytest.approx(sum(d["cost"] for d in body["days"]), **APPROX)
    assert body["requests"] == 2150


def test_cost_errors_are_clear(priced: Collector) -> None:
    c, read = priced, priced.auth("read")
    r = c.client.get(f"/v1/models/{PLAIN}/cost", headers=read)
    assert r.status_code == 404 and r.json()["detail"][0]["field"] == "costs" and "no cost model" in r.json()["error"]
    assert c.client.get("/v1/models/nope/cost", headers=read).status_code == 404
    r = get_cost(c, **{"from": "2025-03-02T00:00:00Z", "to": "2025-03-01T00:00:00Z"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "from"
    r = get_cost(c, **{"from": "2020-01-01T00:00:00Z", "to": "2025-03-01T00:00:00Z"})
    assert r.status_code == 422 and "400 days" in r.json()["detail"][0]["error"]
    assert get_cost(c, **{"from": "yesterday"}).status_code == 422
    assert c.client.get(f"/v1/models/{PRICED}/cost").status_code == 401
    assert c.client.get(f"/v1/models/{PRICED}/cost", headers=c.auth("ingest")).status_code == 403
