"""Feature times from the real SDK over HTTP into a real collector process, stored as exact lags on
SQLite (INSERT) and PostgreSQL (binary COPY, and its staging path for a retried batch)."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

import httpx
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import Engine

import modelwatch
from store import schema
from tests.freshness.conftest import MODEL
from tests.integration.conftest import CollectorProcess

# A recent prediction time with a fraction every float holds exactly: lags come out exact.
T = float(int(time.time()) - 600) + 0.25
FEATURES = {"amount": 12.5, "country": "DE", "user.age-days": 400.0}


def stored(engine: Engine) -> dict[str, tuple[float | None, dict[str, float] | None]]:
    p = schema.predictions
    with engine.connect() as conn:
        rows = conn.execute(sa.select(p.c.prediction_id, p.c.feature_lag_s, p.c.feature_lags)).all()
    return {r.prediction_id: (r.feature_lag_s, r.feature_lags) for r in rows}


def sdk(collector: CollectorProcess, token: str, **options: Any) -> modelwatch.Client:
    return modelwatch.Client(collector.url, token, MODEL, "v1", debug=True, flush_at_exit=False, flush_interval=0.2,
                             retry_deadline=30.0, backoff_cap=0.5, **options)


def test_sdk_feature_times_are_stored_as_exact_lags(collector: CollectorProcess, store: Engine, token: str) -> None:
    # batch_size 3: batches without any feature time, mixed ones, and ones where every row has one.
    client = sdk(collector, token, batch_size=3)
    sent: dict[str, Any] = {
        "none-0": None, "none-1": None, "none-2": None,
        "one-0": T - 1.5, "none-3": None,
        "one-1": datetime.fromtimestamp(T - 3600.0, timezone.utc),
        "per-0": {"amount": T - 30.25, "user.age-days": T - 86400.0},
        "per-1": {"country": T - 0.75, "amount": None},
        "skew": T + 20.0,  # within the 60 s clock skew: fresh, lag 0
        "garbage": "not a time",  # dropped by the SDK, the prediction ships
        "future": T + 3600.0,  # refused by the collector: the row is rejected
    }
    for prediction_id, feature_timestamp in sent.items():
        client.log_prediction(prediction_id, FEATURES, "1", score=0.8, timestamp=T, feature_timestamp=feature_timestamp)
    assert not client.flush(timeout=30)  # one row was rejected: not everything was delivered
    stats = client.stats()
    client.close()
    assert dict(stats.dropped) == {"invalid_feature_time": 1, "rejected_row": 1}

    rows = stored(store)
    assert rows == {
        "none-0": (None, None), "none-1": (None, None), "none-2": (None, None), "none-3": (None, None),
        "one-0": (1.5, None),
        "one-1": (3600.0, None),
        "per-0": (86400.0, {"amount": 30.25, "user.age-days": 86400.0}),
        "per-1": (0.75, {"country": 0.75}),
        "skew": (0.0, None),
        "garbage": (None, None),
    }


def post(collector: CollectorProcess, token: str, records: list[dict[str, Any]], batch_id: str,
         **envelope: Any) -> httpx.Response:
    body = {"model": MODEL, "version": "v1", "batch_id": batch_id, "records": records, **envelope}
    return httpx.post(f"{collector.url}/v1/predictions", json=body, headers={"Authorization": f"Bearer {token}"},
                      timeout=30)


def record(prediction_id: str, **extra: Any) -> dict[str, Any]:
    return {"prediction_id": prediction_id, "timestamp": T, "features": FEATURES, "prediction": "1", **extra}


def test_bad_feature_times_reject_their_rows_and_a_retry_stores_nothing_twice(
        collector: CollectorProcess, store: Engine, token: str) -> None:
    records = [
        record("good", feature_time={"amount": T - 2.0, "country": "2000-01-01T00:00:00Z"}),
        record("text", feature_time="yesterday"),
        record("unknown", feature_time={"price": T}),
        record("future", feature_time={"country": T + 7200.0}),
        record("plain"),
    ]
    answer = post(collector, token, records, "b-1")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["accepted"], body["duplicates"]) == (2, 0)
    rejected = {r["row"]: (r["field"], r["error"]) for r in body["rejected"]}
    assert rejected[1] == ("feature_time", "Invalid RFC3339 encoded datetime")
    assert rejected[2] == ("feature_time.price", "unknown field")
    assert rejected[3][0] == "feature_time.country" and "7200 s after the prediction time" in rejected[3][1]
    metrics = httpx.get(f"{collector.url}/metrics", timeout=10).text
    reasons = {s.labels["reason"]: s.value for f in text_string_to_metric_families(metrics)
               if f.name == "modelwatch_rejected_rows" for s in f.samples if s.name.endswith("_total")}
    assert reasons == {"unknown_field": 1, "feature_time": 2}
    lag_2000 = round(T - datetime(2000, 1, 1, tzinfo=timezone.utc).timestamp(), 6)
    assert stored(store) == {"good": (lag_2000, {"amount": 2.0, "country": lag_2000}), "plain": (None, None)}

    # The same batch again (a retry): on PostgreSQL the COPY hits the key and goes through staging.
    again = post(collector, token, records, "b-1").json()
    assert (again["accepted"], again["duplicates"]) == (0, 2)
    assert len(stored(store)) == 2

    strict = post(collector, token, [record("strict-ok", feature_time=T - 1), record("strict-bad", feature_time=True)],
                  "b-2", all_or_nothing=True)
    assert strict.status_code == 422 and "strict-ok" not in stored(store)
