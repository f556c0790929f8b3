"""Durable, idempotent bulk writes. Every function commits before it returns, so a caller may
acknowledge the data as soon as it gets a result back.

Deduplication is done by the database (unique keys), never by a read-then-write race.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from store import schema
from store.deploys import insert_inferred_deploys
from store.records import (
    FRESHNESS_FIELDS, PREDICTION_FIELDS, CounterRow, LabelRow, PredictionColumns, PredictionRow, WriteResult,
)
from store.types import utc_now



def insert_ignoring_duplicates(conn: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> int:
    """Insert rows, skipping those whose key exists; returns how many were inserted.

    The portable path (SQLite, and PostgreSQL servers without COPY); store.pgcopy is the fast one.
    """
    if not rows:
        return 0
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    # Count what RETURNING gives back: rowcount after an executemany is -1 with psycopg.
    key = table.primary_key.columns.values()[0]
    stmt = dialect.insert(table).on_conflict_do_nothing().returning(key)
    return len(conn.execute(stmt, rows).all())


_insert_ignoring_duplicates = insert_ignoring_duplicates


def prediction_dicts(batch: PredictionColumns, received_at: datetime) -> list[dict[str, Any]]:
    """INSERT parameters; features that are msgspec Structs or JSON text (bytes) become plain
    dicts for the JSON type."""
    features = [f if f.__class__ is dict else msgspec.json.decode(f) if f.__class__ is bytes
                else msgspec.to_builtins(f) for f in batch.features]
    names = PREDICTION_FIELDS + FRESHNESS_FIELDS if batch.has_freshness else PREDICTION_FIELDS
    columns = [getattr(batch, name) for name in names]
    columns[PREDICTION_FIELDS.index("features")] = features
    return [{**dict(zip(names, values)), "received_at": received_at} for values in zip(*columns)]


def label_dicts(rows: Sequence[LabelRow], received_at: datetime) -> list[dict[str, Any]]:
    return [
        {"time": r.time, "model": r.model, "prediction_id": r.prediction_id, "label": r.label,
         "label_value": r.label_value, "received_at": received_at}
        for r in rows
    ]


def write_predictions(engine: Engine, rows: Sequence[PredictionRow] | PredictionColumns) -> WriteResult:
    """Store predictions (rows, or a batch as columns) once each; a (model, prediction_id, time)
    already stored is a duplicate. Raises ValueError for a naive time."""
    batch = rows if isinstance(rows, PredictionColumns) else PredictionColumns.from_rows(rows)
    if not len(batch):
        return WriteResult(0, 0)
    if engine.dialect.name == "postgresql":
        # Binary COPY, or INSERT on servers that cannot COPY (PGlite): decided in store.pgcopy.
        from store.pgcopy import copy_predictions

        return copy_predictions(engine, batch)
    with engine.begin() as conn:
        inserted = insert_ignoring_duplicates(conn, schema.predictions, prediction_dicts(batch, utc_now()))
    return WriteResult(inserted, len(batch) - inserted)


def write_labels(engine: Engine, rows: Sequence[LabelRow]) -> WriteResult:
    """Store labels; the same (model, prediction_id, time) sent twice is stored once."""
    if not rows:
        return WriteResult(0, 0)
    if engine.dialect.name == "postgresql":
        from store.pgcopy import copy_labels

        return copy_labels(engine, rows)
    with engine.begin() as conn:
        inserted = insert_ignoring_duplicates(conn, schema.labels, label_dicts(rows, utc_now()))
    return WriteResult(inserted, len(rows) - inserted)


def write_counters(engine: Engine, rows: Sequence[CounterRow]) -> WriteResult:
    """Append counter deltas; a retried batch (same batch_id) is ignored, never added twice."""
    dicts = [
        {"minute": r.minute, "model": r.model, "version": r.version, "batch_id": r.batch_id,
         "requests": r.requests, "errors": r.errors, "latency_count": r.latency_count,
         "latency_sum_ms": r.latency_sum_ms, "latency_buckets": r.latency_buckets, "dropped": r.dropped}
        for r in rows
    ]
    with engine.begin() as conn:
        inserted = insert_ignoring_duplicates(conn, schema.request_counters, dicts)
    return WriteResult(inserted, len(rows) - inserted)


def note_versions(engine: Engine, model: str, versions: Sequence[str], seen_at: datetime) -> list[str]:
    """Record each model version the first time traffic from it is seen, with an inferred
    deploy (source sdk) at ``seen_at``; returns the versions that were new. Only the insert that
    added a version infers its deploy, in the same transaction, so collectors racing on the
    same new version record one deploy."""
    if not versions:
        return []
    dicts = [{"model": model, "version": v, "first_seen": seen_at} for v in sorted(set(versions))]
    mv = schema.model_versions
    with engine.begin() as conn:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(mv).on_conflict_do_nothing().returning(mv.c.version)
        new = sorted(conn.execute(stmt, dicts).scalars())
        insert_inferred_deploys(conn, model, new, seen_at)
    return new
