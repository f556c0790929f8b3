"""The SDK's columnar batches against a real collector process: the same calls stored through
columns and through records give the same rows, clean batches take the collector's fast path,
and a bad value loses only its own row."""

from __future__ import annotations

import math
import random
import time

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Engine

import modelwatch

COLUMNS = ("time, version, substr(prediction_id, 3) AS key, CAST(features AS TEXT) AS features, prediction, "
           "score, latency_ms, error, CAST(slices AS TEXT) AS slices, weight")


def _calls(n: int, seed: int) -> list[tuple]:
    """log_prediction arguments, varied like serving code's: floats, ints, nulls, NaN, PII."""
    rng = random.Random(seed)
    start = time.time() - 30
    calls = []
    for i in range(n):
        features = {"amount": round(rng.uniform(1, 900), 2), "account_age_days": rng.choice([400, 12.0, None]),
                    "items_in_cart": float(rng.randrange(5)), "hour_of_day": rng.choice([3.0, math.nan]),
                    "ip_risk_score": rng.random(), "country": rng.choice(["DE", "US", 7]),
                    "channel": rng.choice(["web", "ios"]), "payment_method": rng.choice(["card", "mail me a@b.example"]),
                    "shipping_note": None, "customer_email": f"user{i}@example.com"}
        calls.append((i, features, rng.choice(["0", "1"]), rng.random(), rng.uniform(1, 40),
                      rng.choice([None, None, "Timeout"]), {"channel": features["channel"]}, start + i * 0.01))
    return calls


def _log(client: modelwatch.Client, prefix: str, calls: list[tuple]) -> None:
    for i, features, prediction, score, latency, error, slices, ts in calls:
        client.log_prediction(f"{prefix}-{i}", features, prediction, score=score, latency_ms=latency, error=error,
                              slices=slices, timestamp=ts)


def _rows(engine: Engine, prefix: str) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(
            f"SELECT {COLUMNS} FROM predictions WHERE prediction_id LIKE :p ORDER BY time"), {"p": f"{prefix}-%"})]


def _fast_batches(url: str) -> float:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("modelwatch_columnar_batches_total{") and 'path="fast"' in line)


def test_columns_and_records_store_the_same_rows(collector, store, ingest_token):
    calls = _calls(1200, seed=3)
    for prefix, wire in (("r", "records"), ("c", "columns")):
        client = modelwatch.Client(collector.url, ingest_token, "fraud-detector", "v1", debug=True, flush_at_exit=False,
                                   flush_interval=0.2, batch_size=500, wire_format=wire)
        _log(client, prefix, calls)
        assert client.flush(timeout=60)
        assert client.stats().dropped == {}
        client.close()
    records, columns = _rows(store, "r"), _rows(store, "c")
    assert len(columns) == 1200
    assert columns == records
    assert not any("example.com" in row[3] for row in columns)  # the collector's PII policy ran
    assert _fast_batches(collector.url) >= 3  # 1200 rows in batches of at most 500


def test_a_bad_value_loses_its_own_row_only(collector, store, ingest_token):
    client = modelwatch.Client(collector.url, ingest_token, "fraud-detector", "v1", debug=True, flush_at_exit=False,
                               flush_interval=0.2)
    for i in range(100):
        # Row 50 is stamped three days ahead: the collector refuses that row alone.
        client.log_prediction(f"b-{i}", {"amount": float(i), "country": "DE"}, "1", score=0.5,
                              timestamp=time.time() + (3 * 86400 if i == 50 else 0))
    assert not client.flush(timeout=60)  # False: a row was lost (rejected)
    client.close()
    assert client.stats().dropped == {"rejected_row": 1}
    with store.connect() as conn:
        stored = {r[0] for r in conn.execute(sa.text("SELECT prediction_id FROM predictions"))}
    assert stored == {f"b-{i}" for i in range(100) if i != 50}
