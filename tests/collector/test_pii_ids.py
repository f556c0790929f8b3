"""Prediction ids under the model's PII policy in the collector: e-mails and phone numbers used
as ids are stored as their keyed hash (predictions and labels alike, so labels still join),
``prediction_id: hash`` hashes every id, and without a key such a row is refused, never stored."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine

from collector.redaction import Redactor
from config.loader import parse_monitors
from config.monitors import Monitors
from modelwatch.redact_ids import redact_prediction_id
from tests.collector.conftest import FRAUD, PII_KEY, Collector, batch, fraud_record, monitors_for_tests

EMAIL = "id.canary@example.com"
PHONE = "+1 (555) 123-4567"


def hmac_of(value: str) -> str:
    return "hmac:" + hmac.new(PII_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


def with_id_policy(action: str) -> Monitors:
    models = [m.model_dump(mode="json") for m in monitors_for_tests().models]
    for model in models:
        model["pii"]["prediction_id"] = action
    return parse_monitors({"version": 1, "models": models})


def labels(ids: list[str]) -> dict[str, Any]:
    return {"model": FRAUD, "records": [{"prediction_id": i, "label": "1"} for i in ids]}


def joined(c: Collector) -> list[tuple[str, str]]:
    rows = c.rows("SELECT p.prediction_id, l.label FROM predictions p JOIN labels l"
                  " ON l.model = p.model AND l.prediction_id = p.prediction_id ORDER BY p.prediction_id")
    return [(r.prediction_id, r.label) for r in rows]


def test_pii_ids_are_hashed_and_labels_still_join(any_collector: Collector) -> None:
    c = any_collector
    records = [fraud_record(EMAIL), fraud_record(PHONE), fraud_record("req-7")]
    r = c.post("/v1/predictions", batch(records))
    assert r.status_code == 200 and r.json()["accepted"] == 3, r.text
    r = c.post("/v1/labels", labels([EMAIL, PHONE, "req-7"]))
    assert r.status_code == 200 and r.json()["accepted"] == 3, r.text
    stored = sorted(row.prediction_id for row in c.rows("SELECT prediction_id FROM predictions"))
    assert stored == sorted([hmac_of(EMAIL), hmac_of(PHONE), "req-7"])
    assert len(joined(c)) == 3
    # A resend of the same record is a duplicate of the stored hash, not a new row.
    again = c.post("/v1/predictions", batch(records[:1]))
    assert again.json()["duplicates"] == 1


def test_ids_hashed_by_the_sdk_are_kept(collector: Collector) -> None:
    collector.post("/v1/predictions", batch([fraud_record(hmac_of(EMAIL))]))
    collector.post("/v1/labels", labels([EMAIL]))  # a labeller without the key: hashed here
    assert joined(collector) == [(hmac_of(EMAIL), "1")]


def test_policy_hash_hashes_every_id_and_keep_none(sqlite_engine: Engine,
                                                   start_collector: Callable[..., Collector]) -> None:
    hashing = start_collector(sqlite_engine, monitors=with_id_policy("hash"))
    hashing.post("/v1/predictions", batch([fraud_record("req-1")]))
    hashing.post("/v1/labels", labels(["req-1"]))
    assert joined(hashing) == [(hmac_of("req-1"), "1")]


def test_policy_keep_stores_ids_as_sent(sqlite_engine: Engine, start_collector: Callable[..., Collector]) -> None:
    keeping = start_collector(sqlite_engine, monitors=with_id_policy("keep"))
    keeping.post("/v1/predictions", batch([fraud_record("4111111111111111")]))
    assert [r.prediction_id for r in keeping.rows("SELECT prediction_id FROM predictions")] == ["4111111111111111"]


def test_without_a_key_pii_ids_are_refused_by_field_not_by_value(sqlite_engine: Engine,
                                                                start_collector: Callable[..., Collector]) -> None:
    c = start_collector(sqlite_engine, pii_key=None)
    r = c.post("/v1/predictions", batch([fraud_record("ok-1"), fraud_record(EMAIL)]))
    assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
    (problem,) = r.json()["rejected"]
    assert problem["row"] == 1 and problem["field"] == "prediction_id" and "MODELWATCH_PII_KEY" in problem["error"]
    r = c.post("/v1/labels", labels([PHONE]))
    assert r.status_code == 422 and EMAIL not in r.text and PHONE not in r.text
    assert [row.prediction_id for row in c.rows("SELECT prediction_id FROM predictions")] == ["ok-1"]
    assert c.rows("SELECT prediction_id FROM labels") == []


def test_refused_rows_keep_their_numbers_after_rows_dropped_before(sqlite_engine: Engine,
                                                                  start_collector: Callable[..., Collector]) -> None:
    # Row 0 is dropped first (NUL in a feature), so the ids' positions are not their rows; row 7,
    # checked after the ids, must still be named row 7.
    c = start_collector(sqlite_engine, pii_key=None)
    nul = fraud_record("nul-0")
    nul["features"]["country"] = "D\x00E"
    records = [nul, fraud_record("ok-1"), fraud_record(EMAIL), fraud_record("ok-3"), fraud_record(PHONE),
               fraud_record("4111111111111111"), fraud_record("ok-6"), fraud_record("late-7", timestamp=4e9)]
    r = c.post("/v1/predictions", batch(records))
    assert r.status_code == 200 and r.json()["accepted"] == 3, r.text
    rejected = {(p["row"], p["field"]) for p in r.json()["rejected"]}
    assert rejected == {(0, "features.country"), (2, "prediction_id"), (4, "prediction_id"), (5, "prediction_id"),
                        (7, "timestamp")}
    stored = sorted(row.prediction_id for row in c.rows("SELECT prediction_id FROM predictions"))
    assert stored == ["ok-1", "ok-3", "ok-6"]


def test_prediction_id_list_is_redact_prediction_id_per_id() -> None:
    model = monitors_for_tests().model(FRAUD)
    assert model is not None
    ids = ["req-1", EMAIL, "1700000000123", PHONE, "order_991-17", "p0-12345", "4111111111111111", "a 555-123-4567"]
    for key in (PII_KEY.encode(), None):
        redactor = Redactor(model, key)
        stored, needs_key = redactor.prediction_id_list(ids)
        expected = [redact_prediction_id(i, redactor.policy) for i in ids]
        assert needs_key == [k for k, e in enumerate(expected) if e is None] == ([] if key else [1, 3, 6, 7])
        assert [s for k, s in enumerate(stored) if k not in needs_key] == [e for e in expected if e is not None]
    plain = ["req-1", "p0-12345"]
    assert Redactor(model, None).prediction_id_list(plain) == (plain, [])
