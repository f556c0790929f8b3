"""POST /v1/labels and /v1/counters."""

from __future__ import annotations

import json
import time
from typing import Any

from tests.collector.conftest import FRAUD, PRICES, Collector

BOUNDS = [5, 10, 25]


def _minute(offset: int = 0) -> int:
    return int(time.time() // 60 * 60) - 60 * offset


def counters_body(batch_id: str = "c-1", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": FRAUD, "version": "v1", "batch_id": batch_id, "bounds_ms": BOUNDS,
        "counters": [
            {"minute": _minute(1), "requests": 100, "errors": 2, "latency_count": 98,
             "latency_sum_ms": 400.5, "latency_buckets": [50, 30, 10, 8]},
            {"minute": _minute(0), "requests": 10, "errors": 0, "latency_count": 10,
             "latency_sum_ms": 20.0, "latency_buckets": [10, 0, 0, 0]},
        ],
        "dropped": {"buffer_full": 3},
    }
    body.update(overrides)
    return body


def test_labels_are_stored_and_deduplicated(any_collector: Collector) -> None:
    c = any_collector
    body = {"model": FRAUD, "batch_id": "l-1", "records": [
        {"prediction_id": "p1", "label": 1, "timestamp": time.time()},
        {"prediction_id": "p2", "label": "0", "timestamp": time.time()},
        {"prediction_id": "p3", "label": None},
    ]}
    r = c.post("/v1/labels", body)
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 2
    assert [(p["row"], p["field"]) for p in r.json()["rejected"]] == [(2, "label")]
    assert c.post("/v1/labels", body).json()["duplicates"] == 2
    labels = c.rows("SELECT prediction_id, label FROM labels ORDER BY 1")
    assert [(row.prediction_id, row.label) for row in labels] == [("p1", "1"), ("p2", "0")]


def test_regression_labels_keep_their_value(collector: Collector) -> None:
    r = collector.post("/v1/labels", {"model": PRICES, "records": [{"prediction_id": "h1", "label": 412000.5}]})
    assert r.json()["accepted"] == 1
    row = collector.rows("SELECT label, label_value FROM labels")[0]
    assert (row.label, row.label_value) == ("412000.5", 412000.5)


def test_counters_are_stored_once_per_batch_id(any_collector: Collector) -> None:
    c = any_collector
    r = c.post("/v1/counters", counters_body())
    assert r.status_code == 200, r.text
    assert r.json() == {"accepted": 2, "duplicates": 0, "rejected": []}
    assert c.post("/v1/counters", counters_body()).json() == {"accepted": 0, "duplicates": 2, "rejected": []}
    rows = c.rows("SELECT requests, errors, latency_buckets, dropped FROM request_counters ORDER BY minute")
    assert [row.requests for row in rows] == [100, 10]
    buckets = rows[0].latency_buckets if isinstance(rows[0].latency_buckets, dict) else json.loads(rows[0].latency_buckets)
    assert buckets == {"5": 50, "10": 30, "25": 10, "+Inf": 8}
    dropped = [row.dropped if not isinstance(row.dropped, str) else json.loads(row.dropped) for row in rows]
    assert dropped == [{"buffer_full": 3}, None]  # counted once, on the first row


def test_inconsistent_counter_rows_are_rejected(collector: Collector) -> None:
    body = counters_body(counters=[
        {"minute": _minute(), "requests": 5, "errors": 6},
        {"minute": _minute() + 30, "requests": 5},
        {"minute": _minute(), "requests": 5, "latency_count": 5, "latency_sum_ms": 1, "latency_buckets": [5]},
        {"minute": _minute(), "requests": -1},
        {"minute": _minute(2), "requests": 5, "latency_count": 5, "latency_sum_ms": 1, "latency_buckets": [1, 1, 1, 1]},
        {"minute": _minute(3), "requests": 7},
    ])
    r = collector.post("/v1/counters", body)
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 1
    assert [(p["row"], p["field"]) for p in r.json()["rejected"]] == [
        (0, "errors"), (1, "minute"), (2, "latency_buckets"), (3, "requests"), (4, "latency_buckets")]


def test_counter_bounds_must_increase(collector: Collector) -> None:
    r = collector.post("/v1/counters", counters_body(bounds_ms=[10, 5, 25]))
    assert r.status_code == 422
    assert r.json()["detail"][0]["field"] == "bounds_ms"


def test_drops_without_traffic_are_still_recorded(collector: Collector) -> None:
    r = collector.post("/v1/counters", counters_body(counters=[], dropped={"queue_full": 4}))
    assert r.json()["accepted"] == 1
    row = collector.rows("SELECT requests, dropped FROM request_counters")[0]
    assert row.requests == 0 and json.loads(row.dropped) == {"queue_full": 4}


def test_counters_need_a_batch_id(collector: Collector) -> None:
    body = counters_body()
    del body["batch_id"]
    r = collector.post("/v1/counters", body)
    assert r.status_code == 422
    assert r.json()["detail"] == [{"row": None, "field": "batch_id", "error": "required field is missing"}]


def test_ndjson_labels_and_counters(collector: Collector) -> None:
    ndjson = collector.auth() | {"content-type": "application/x-ndjson"}
    labels = "\n".join(json.dumps({"prediction_id": f"p{i}", "label": i % 2}) for i in range(3))
    r = collector.client.post("/v1/labels", content=labels, params={"model": FRAUD, "batch_id": "nl"}, headers=ndjson)
    assert r.json() == {"accepted": 3, "duplicates": 0, "rejected": []}
    rows = "\n".join(json.dumps(c) for c in counters_body()["counters"])
    params = {"model": FRAUD, "version": "v1", "batch_id": "nc", "bounds_ms": "5,10,25"}
    r = collector.client.post("/v1/counters", content=rows, params=params, headers=ndjson)
    assert r.json() == {"accepted": 2, "duplicates": 0, "rejected": []}
    r = collector.client.post("/v1/counters", content=rows, params=params | {"bounds_ms": "5,x"}, headers=ndjson)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "bounds_ms"
