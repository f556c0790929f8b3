"""POST /v1/predictions: storage, dedup, per-row rejection, all_or_nothing, NaN/Infinity."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

import pytest

from tests.collector.conftest import FRAUD, PRICES, Collector, batch, fraud_record


def test_batch_is_stored_and_versions_noted(any_collector: Collector) -> None:
    c = any_collector
    records = [fraud_record(f"p{i}") for i in range(3)]
    records[2]["version"] = "v2"
    r = c.post("/v1/predictions", batch(records))
    assert r.status_code == 200, r.text
    assert r.json() == {"accepted": 3, "duplicates": 0, "rejected": []}
    rows = c.rows("SELECT prediction_id, version, features, prediction, score, latency_ms, slices, weight "
                  "FROM predictions ORDER BY prediction_id")
    assert [(row.prediction_id, row.version) for row in rows] == [("p0", "v1"), ("p1", "v1"), ("p2", "v2")]
    features = rows[0].features if isinstance(rows[0].features, dict) else json.loads(rows[0].features)
    assert features["amount"] == 12.5 and features["country"] == "DE"
    assert features["shipping_note"] is None  # a missing feature is stored as missing
    assert (rows[0].prediction, rows[0].score, rows[0].latency_ms, rows[0].weight) == ("1", 0.91, 3.2, 1.0)
    versions = c.rows("SELECT version FROM model_versions WHERE model = :m ORDER BY version", m=FRAUD)
    assert [v.version for v in versions] == ["v1", "v2"]


def test_retry_of_the_same_batch_is_counted_as_duplicates(any_collector: Collector) -> None:
    c = any_collector
    body = batch([fraud_record("a"), fraud_record("b")])
    assert c.post("/v1/predictions", body).json()["accepted"] == 2
    again = c.post("/v1/predictions", body)
    assert again.status_code == 200
    assert again.json() == {"accepted": 0, "duplicates": 2, "rejected": []}
    assert c.rows("SELECT count(*) AS n FROM predictions")[0].n == 2


def test_retry_without_timestamps_deduplicates_by_batch_id(collector: Collector) -> None:
    record = fraud_record("no-ts")
    del record["timestamp"]
    body = batch([record])
    assert collector.post("/v1/predictions", body).json()["accepted"] == 1
    assert collector.post("/v1/predictions", body).json() == {"accepted": 0, "duplicates": 1, "rejected": []}


def test_bad_rows_are_rejected_with_row_and_field_while_good_rows_are_stored(collector: Collector) -> None:
    future = time.time() + 3 * 86400
    records = [
        fraud_record("ok-0"),
        fraud_record("bad-type", features={"amount": "twelve"}),
        fraud_record("bad-unknown", features={"amount": 1.0, "colour": "red"}),
        fraud_record("ok-3"),
        fraud_record("bad-ts", timestamp="yesterday"),
        fraud_record("bad-future", timestamp=future),
        fraud_record("bad-old", timestamp="1999-12-31T23:59:59Z"),
        {"features": {}},
        fraud_record("bad-extra", colour="red"),
        fraud_record("x" * 257),
    ]
    r = collector.post("/v1/predictions", batch(records))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["accepted"] == 2
    got = {(p["row"], p["field"]) for p in body["rejected"]}
    assert got == {(1, "features.amount"), (2, "features.colour"), (4, "timestamp"), (5, "timestamp"),
                   (6, "timestamp"), (7, "prediction_id"), (8, "colour"), (9, "prediction_id")}
    by_row = {p["row"]: p["error"] for p in body["rejected"]}
    assert "float" in by_row[1] and by_row[2] == "unknown field" and "2000" in by_row[5]
    stored = [row.prediction_id for row in collector.rows("SELECT prediction_id FROM predictions ORDER BY 1")]
    assert stored == ["ok-0", "ok-3"]


def test_all_or_nothing_stores_nothing_when_a_row_is_bad(collector: Collector) -> None:
    records = [fraud_record("good"), fraud_record("bad", features={"amount": [1]})]
    r = collector.post("/v1/predictions", batch(records, all_or_nothing=True))
    assert r.status_code == 422
    assert r.json()["detail"] == [{"row": 1, "field": "features.amount", "error": "Expected `float | null`, got `array`"}]
    assert "all_or_nothing" in r.json()["error"]
    assert collector.rows("SELECT count(*) AS n FROM predictions")[0].n == 0
    assert collector.rows("SELECT count(*) AS n FROM model_versions")[0].n == 0


def test_a_batch_whose_rows_are_all_bad_is_422(collector: Collector) -> None:
    r = collector.post("/v1/predictions", batch([fraud_record("a", features={"amount": "x"})]))
    assert r.status_code == 422
    assert r.json()["detail"][0]["row"] == 0


def test_missing_version_rejects_the_row(collector: Collector) -> None:
    body = batch([fraud_record("a"), fraud_record("b", version="v9")])
    del body["version"]
    r = collector.post("/v1/predictions", body)
    assert r.json()["accepted"] == 1
    assert r.json()["rejected"] == [{"row": 0, "field": "version", "error": "no version: set it on the batch or the record"}]


def test_quality_problems_are_kept_not_rejected(collector: Collector) -> None:
    """Out-of-range numbers and undeclared categories are findings for analysis, not 4xx."""
    record = fraud_record("q", features={"amount": -5e6, "country": "XX", "payment_method": 7, "channel": True})
    r = collector.post("/v1/predictions", batch([record]))
    assert r.json() == {"accepted": 1, "duplicates": 0, "rejected": []}
    features = json.loads(collector.rows("SELECT features FROM predictions")[0].features)
    # Categories sent as numbers or booleans are stored as text.
    assert (features["amount"], features["country"], features["payment_method"], features["channel"]) == (-5e6, "XX", "7", "True")


def test_non_nullable_feature_and_odd_feature_names(collector: Collector) -> None:
    records = [
        {"prediction_id": "r0", "features": {"sq-ft": 80, "class": "loft"}, "prediction": 350000.0},
        {"prediction_id": "r1", "features": {"rooms": 3}, "prediction": 1},
        {"prediction_id": "r2", "features": {"sq-ft": None}, "prediction": 1},
        {"prediction_id": "r3", "features": {"sq-ft": 50}, "prediction": "cheap"},
    ]
    r = collector.post("/v1/predictions", batch(records, model=PRICES))
    assert r.json()["accepted"] == 1
    assert {(p["row"], p["field"]) for p in r.json()["rejected"]} == {(1, "features.sq-ft"), (2, "features.sq-ft"), (3, "prediction")}
    row = collector.rows("SELECT features, prediction, prediction_value FROM predictions")[0]
    assert json.loads(row.features) == {"sq-ft": 80.0, "rooms": None, "city": None, "class": "loft"}
    assert (row.prediction, row.prediction_value) == ("350000.0", 350000.0)


def test_nan_is_missing_and_infinity_rejects_the_row(collector: Collector) -> None:
    """Python's json writes NaN / Infinity literals: not JSON, but handled on purpose."""
    records = [fraud_record("nan", features={"amount": float("nan")}, score=float("nan")),
               fraud_record("inf", features={"amount": float("inf")}),
               fraud_record("-inf", latency_ms=float("-inf"))]
    text = json.dumps(batch(records))  # allow_nan=True by default
    assert "NaN" in text and "Infinity" in text
    r = collector.client.post("/v1/predictions", content=text, headers=collector.auth() | {"content-type": "application/json"})
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 1
    assert r.json()["rejected"] == [
        {"row": 1, "field": "features.amount", "error": "non-finite number (Infinity) is not allowed"},
        {"row": 2, "field": "latency_ms", "error": "non-finite number (Infinity) is not allowed"},
    ]
    row = collector.rows("SELECT features, score FROM predictions")[0]
    assert json.loads(row.features)["amount"] is None and row.score is None


def test_ndjson_backfill_with_query_envelope(collector: Collector) -> None:
    lines = [json.dumps(fraud_record(f"n{i}")) for i in range(3)]
    lines.insert(1, "")  # blank lines are skipped
    lines.append('{"prediction_id": "broken", ')  # a malformed line rejects itself only
    lines.append(json.dumps(fraud_record("nan", features={"amount": float("nan")})))
    r = collector.client.post(
        "/v1/predictions", content="\n".join(lines), params={"model": FRAUD, "version": "backfill"},
        headers=collector.auth() | {"content-type": "application/x-ndjson"})
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 4
    assert [(p["row"], p["field"]) for p in r.json()["rejected"]] == [(3, "")]
    assert r.json()["rejected"][0]["error"].startswith("invalid JSON")
    assert {row.version for row in collector.rows("SELECT version FROM predictions")} == {"backfill"}


def test_ndjson_needs_a_model_parameter(collector: Collector) -> None:
    r = collector.client.post("/v1/predictions", content=json.dumps(fraud_record("a")),
                              headers=collector.auth() | {"content-type": "application/x-ndjson"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["field"] == "model"


def test_gzip_body(collector: Collector) -> None:
    import gzip

    payload = gzip.compress(json.dumps(batch([fraud_record("gz")])).encode())
    r = collector.client.post("/v1/predictions", content=payload, headers=collector.auth() | {
        "content-type": "application/json", "content-encoding": "gzip"})
    assert r.json()["accepted"] == 1


def test_rfc3339_timestamps_are_stored_as_utc(collector: Collector) -> None:
    record = fraud_record("tz", timestamp="2026-01-02T03:04:05.5+02:00")
    assert collector.post("/v1/predictions", batch([record])).json()["accepted"] == 1
    from store import schema
    import sqlalchemy as sa

    with collector.engine.connect() as conn:
        stored = conn.execute(sa.select(schema.predictions.c.time)).scalar_one()
    assert stored == datetime(2026, 1, 2, 1, 4, 5, 500000, tzinfo=timezone.utc)


@pytest.mark.parametrize("prediction, stored", [(1, "1"), (1.0, "1"), (True, "True"), ("yes", "yes")])
def test_class_predictions_are_stored_as_text(collector: Collector, prediction: object, stored: str) -> None:
    collector.post("/v1/predictions", batch([fraud_record("c", prediction=prediction)]))
    assert collector.rows("SELECT prediction FROM predictions")[0].prediction == stored


def test_the_envelope_may_come_in_any_key_order(any_collector: Collector) -> None:
    # The SDK writes "model" first and such a body is decoded in one pass; any other order
    # (or a second "model" key) goes through the two-pass decode, with the same outcome.
    records = [fraud_record("k0"), fraud_record("k1")]
    body = json.dumps({"records": records, "version": "v1", "model": FRAUD}).encode()
    headers = any_collector.auth() | {"content-type": "application/json"}
    r = any_collector.client.post("/v1/predictions", content=body, headers=headers)
    assert r.json() == {"accepted": 2, "duplicates": 0, "rejected": []}
    twice = b'{"model": "%s", "version": "v1", "records": [], "model": "no-such-model"}' % FRAUD.encode()
    assert any_collector.client.post("/v1/predictions", content=twice, headers=headers).status_code == 404
    first = json.dumps({"model": FRAUD, "version": "v1", "records": [fraud_record("k2"), {"prediction_id": "bad"}]})
    r = any_collector.client.post("/v1/predictions", content=first, headers=headers)
    assert r.json()["accepted"] == 1 and [p["row"] for p in r.json()["rejected"]] == [1]
