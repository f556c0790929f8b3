"""Durable, idempotent writes on SQLite and PostgreSQL (binary COPY), checked by reading back."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import msgspec
import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from store import schema
from store.records import CounterRow, LabelRow, PredictionColumns, PredictionRow, WriteResult
from store.writes import note_versions, write_counters, write_labels, write_predictions

T0 = datetime(2024, 3, 10, 12, 0, tzinfo=timezone.utc)


def prediction(i: int, **overrides: Any) -> PredictionRow:
    values: dict[str, Any] = {
        "time": T0 + timedelta(seconds=i), "model": "churn", "version": "v1",
        "prediction_id": f"p-{i}", "features": {"age": 30 + i, "plan": "pro"},
        "prediction": "1", "score": 0.75, "latency_ms": 3.5, "weight": 2.0,
    }
    values.update(overrides)
    return PredictionRow(**values)


def count(engine: Engine, table: sa.Table) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def stored_predictions(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(schema.predictions)).mappings().all()
    return {row["prediction_id"]: row for row in rows}


def test_predictions_are_stored_once(engine: Engine) -> None:
    batch = [prediction(i) for i in range(10)]
    assert write_predictions(engine, batch) == WriteResult(10, 0)
    # A retried batch, and a batch overlapping it: only new rows go in.
    assert write_predictions(engine, batch) == WriteResult(0, 10)
    assert write_predictions(engine, [prediction(i) for i in range(5, 15)]) == WriteResult(5, 5)
    assert count(engine, schema.predictions) == 15


def test_duplicate_inside_one_batch_is_stored_once(engine: Engine) -> None:
    assert write_predictions(engine, [prediction(1), prediction(2), prediction(1)]) == WriteResult(2, 1)
    assert count(engine, schema.predictions) == 2


def test_large_batch_counts_duplicates_exactly(engine: Engine) -> None:
    # Larger than SQLAlchemy's and psycopg's internal batches, so counts must add up across them.
    first = [prediction(i) for i in range(0, 2500)]
    second = [prediction(i) for i in range(1500, 4000)]
    assert write_predictions(engine, first) == WriteResult(2500, 0)
    assert write_predictions(engine, second) == WriteResult(1500, 1000)
    assert count(engine, schema.predictions) == 4000


def test_same_prediction_id_for_another_model_is_not_a_duplicate(engine: Engine) -> None:
    write_predictions(engine, [prediction(1)])
    assert write_predictions(engine, [prediction(1, model="fraud")]) == WriteResult(1, 0)


def test_prediction_fields_round_trip(engine: Engine) -> None:
    features = {
        "age": 41, "income": 52000.25, "ratio": 1e-12, "big": 2**53, "flag": True, "missing": None,
        "plan": "pró ✓ \"quoted\" \\ back", "tags": ["a", "b"], "nested": {"k": [1, 2.5, None]},
    }
    row = prediction(
        7, features=features, prediction=None, prediction_value=12.5, score=None,
        probabilities={"a": 0.25, "b": 0.75}, latency_ms=None, error="timeout",
        slices={"country": "DE", "device": "ios"}, weight=10.0,
    )
    write_predictions(engine, [row])
    stored = stored_predictions(engine)["p-7"]
    assert stored["features"] == features
    assert stored["probabilities"] == {"a": 0.25, "b": 0.75}
    assert stored["slices"] == {"country": "DE", "device": "ios"}
    assert stored["prediction"] is None and stored["prediction_value"] == 12.5
    assert stored["score"] is None and stored["latency_ms"] is None
    assert stored["error"] == "timeout" and stored["weight"] == 10.0
    assert (stored["model"], stored["version"]) == ("churn", "v1")


def test_null_json_documents_stay_null(engine: Engine) -> None:
    write_predictions(engine, [prediction(1, probabilities=None, slices=None)])
    with engine.connect() as conn:
        nulls = conn.execute(sa.select(sa.func.count()).select_from(schema.predictions).where(
            schema.predictions.c.slices.is_(None), schema.predictions.c.probabilities.is_(None))).scalar()
    assert nulls == 1


def test_times_come_back_as_the_same_utc_instant(engine: Engine) -> None:
    kolkata = timezone(timedelta(hours=5, minutes=30))
    local = datetime(2024, 3, 10, 17, 30, 0, 123456, tzinfo=kolkata)
    write_predictions(engine, [prediction(1, time=local)])
    stored = stored_predictions(engine)["p-1"]
    assert stored["time"] == local
    assert stored["time"].utcoffset() == timedelta(0)
    assert stored["time"] == datetime(2024, 3, 10, 12, 0, 0, 123456, tzinfo=timezone.utc)
    assert stored["received_at"].tzinfo is not None


def test_a_retry_with_the_time_in_another_offset_is_still_a_duplicate(engine: Engine) -> None:
    write_predictions(engine, [prediction(1)])
    shifted = prediction(1).time.astimezone(timezone(timedelta(hours=-7)))
    assert write_predictions(engine, [prediction(1, time=shifted)]) == WriteResult(0, 1)


def test_naive_times_are_refused(engine: Engine) -> None:
    with pytest.raises((ValueError, sa.exc.StatementError), match="naive"):
        write_predictions(engine, [prediction(1, time=datetime(2024, 1, 1))])
    assert count(engine, schema.predictions) == 0


def test_a_rejected_row_rolls_back_its_whole_batch(engine: Engine) -> None:
    # PostgreSQL refuses NUL in text; nothing of the batch may be half written. (SQLite takes it.)
    batch = [prediction(1), prediction(2, error="bad\x00byte"), prediction(3)]
    if engine.dialect.name == "postgresql":
        with pytest.raises((psycopg.Error, sa.exc.DBAPIError)):
            write_predictions(engine, batch)
        assert count(engine, schema.predictions) == 0
        assert write_predictions(engine, [prediction(1)]) == WriteResult(1, 0)
    else:
        assert write_predictions(engine, batch) == WriteResult(3, 0)


def test_labels_are_stored_once_and_corrections_are_new_rows(engine: Engine) -> None:
    labels = [LabelRow(time=T0 + timedelta(hours=1), model="churn", prediction_id=f"p-{i}", label="1")
              for i in range(5)]
    assert write_labels(engine, labels) == WriteResult(5, 0)
    assert write_labels(engine, labels) == WriteResult(0, 5)
    correction = LabelRow(time=T0 + timedelta(hours=2), model="churn", prediction_id="p-0",
                          label="0", label_value=0.0)
    assert write_labels(engine, [correction, labels[1]]) == WriteResult(1, 1)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(schema.labels.c.time, schema.labels.c.label)
                            .where(schema.labels.c.prediction_id == "p-0")
                            .order_by(schema.labels.c.time)).all()
    assert [(r.time, r.label) for r in rows] == [(T0 + timedelta(hours=1), "1"), (T0 + timedelta(hours=2), "0")]


def counter(batch_id: str, requests: int = 10, minute: datetime = T0) -> CounterRow:
    return CounterRow(minute=minute, model="churn", version="v1", batch_id=batch_id,
                      requests=requests, errors=1, latency_count=requests, latency_sum_ms=42.5,
                      latency_buckets={"5": 7, "+Inf": 3}, dropped={"buffer_full": 2})


def test_counter_deltas_add_up_and_retried_batches_do_not(engine: Engine) -> None:
    assert write_counters(engine, [counter("b1"), counter("b2", 5)]) == WriteResult(2, 0)
    assert write_counters(engine, [counter("b1"), counter("b3", 1)]) == WriteResult(1, 1)
    with engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.sum(schema.request_counters.c.requests))).scalar()
        row = conn.execute(sa.select(schema.request_counters).where(
            schema.request_counters.c.batch_id == "b1")).mappings().one()
    assert total == 16
    assert row["latency_buckets"] == {"5": 7, "+Inf": 3} and row["dropped"] == {"buffer_full": 2}
    assert row["minute"] == T0


def test_versions_are_noted_once(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(schema.models.insert().values(name="churn", task="binary", spec={}, created_at=T0,
                                                   updated_at=T0))
    note_versions(engine, "churn", ["v1", "v2", "v1"], T0)
    note_versions(engine, "churn", ["v2", "v3"], T0 + timedelta(days=1))
    with engine.connect() as conn:
        rows = conn.execute(sa.select(schema.model_versions.c.version, schema.model_versions.c.first_seen)
                            .order_by(schema.model_versions.c.version)).all()
    assert [(r.version, r.first_seen) for r in rows] == [
        ("v1", T0), ("v2", T0), ("v3", T0 + timedelta(days=1))]


def test_empty_batches_write_nothing(engine: Engine) -> None:
    assert write_predictions(engine, []) == WriteResult(0, 0)
    assert write_labels(engine, []) == WriteResult(0, 0)
    assert write_counters(engine, []) == WriteResult(0, 0)


Features = msgspec.defstruct("Features", [("f0", float | None, None), ("f1", str | None, None)],
                             rename={"f0": "amount", "f1": "e-mail"}, kw_only=True, gc=False)


def test_a_batch_as_columns_with_struct_features(engine: Engine) -> None:
    # What the collector hands over: columns, and features as decoded msgspec Structs, stored
    # under their feature names; a field set to UNSET (a dropped PII field) is left out.
    dropped = Features(f0=2.5, f1="x")
    dropped.f1 = msgspec.UNSET
    rows = [prediction(1, features=Features(f0=1.5)), prediction(2, features=dropped)]
    batch = PredictionColumns.from_rows(rows)
    assert len(batch) == 2 and batch.prediction_id == ["p-1", "p-2"]
    assert write_predictions(engine, batch) == WriteResult(2, 0)
    assert write_predictions(engine, batch) == WriteResult(0, 2)
    stored = stored_predictions(engine)
    documents = {k: v["features"] if isinstance(v["features"], dict) else json.loads(v["features"])
                 for k, v in stored.items()}
    assert documents == {"p-1": {"amount": 1.5, "e-mail": None}, "p-2": {"amount": 2.5}}
    assert stored["p-2"]["score"] == 0.75 and stored["p-2"]["weight"] == 2.0


def test_columns_and_rows_store_the_same(engine: Engine) -> None:
    rows = [prediction(i, error="e" if i % 2 else None, slices={"k": "v"} if i % 3 else None) for i in range(6)]
    write_predictions(engine, PredictionColumns.from_rows(rows[:3]))
    write_predictions(engine, rows[3:])
    stored = stored_predictions(engine)
    assert [(stored[r.prediction_id]["error"], stored[r.prediction_id]["slices"]) for r in rows] == [
        (r.error, r.slices) for r in rows]
