"""Bulk loading into PostgreSQL with psycopg's binary COPY.

Fast path: COPY straight into the table inside a savepoint. A retried batch hits the primary
key; then the savepoint is rolled back and the batch goes through a temporary staging table and
``INSERT ... SELECT ... ON CONFLICT DO NOTHING``, which counts inserted rows and duplicates.

JSON documents are encoded with msgspec and handed to COPY as raw field bytes: in binary COPY the
server decodes each field with the *column's* receive function whatever type the client
declared, so declaring the field ``bytea`` lets psycopg's C bytea dumper pass the bytes through
untouched. jsonb's binary input is a version byte (1) followed by the JSON text; json's is the
bare text. Which one a column gets is read from store/schema.py.

Servers that cannot COPY FROM STDIN (PGlite over pglite-socket) get the INSERT path instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone
from itertools import repeat
from operator import attrgetter
from typing import Any

import msgspec
import psycopg
import sqlalchemy as sa
from psycopg import Cursor, errors, sql
from psycopg.adapt import PyFormat
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Engine

from store import schema, writes
from store.records import LabelRow, PredictionColumns, WriteResult

_COPY_SUPPORTED = "modelwatch.copy_supported"
JSONB_VERSION = b"\x01"

_encode = msgspec.json.Encoder().encode
_postgresql = postgresql.dialect()


def supports_copy(conn: Connection) -> bool:
    """Whether this connection's server takes COPY FROM STDIN; asked once per connection.

    PGlite (PostgreSQL compiled to WASM, served by pglite-socket) does not, and announces itself
    as built by emscripten in version().
    """
    if conn.dialect.name != "postgresql":
        return False
    cached = conn.info.get(_COPY_SUPPORTED)
    if cached is None:
        version = conn.exec_driver_sql("SELECT version()").scalar() or ""
        cached = conn.info[_COPY_SUPPORTED] = "emscripten" not in version.lower()
    return bool(cached)


def jsonb_field(document: Any) -> bytes | None:
    """A JSON document in jsonb's binary input format, or None (SQL NULL) for None."""
    if document is None:
        return None
    return JSONB_VERSION + _encode(document)


def json_field(document: Any) -> bytes | None:
    """A JSON document in json's binary input format (the text), or None for None."""
    return None if document is None else _encode(document)


def document_field(column: sa.Column[Any]) -> Callable[[Any], bytes | None]:
    """The field encoder for a JSON column, by its PostgreSQL type (json or jsonb)."""
    if isinstance(column.type.dialect_impl(_postgresql), postgresql.JSONB):
        return jsonb_field
    return json_field


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: modelwatch stores aware UTC times only")
    return value


def _raw_cursor(conn: Connection) -> Cursor[Any]:
    return conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr, return-value]


# set_types("bytea") takes the dumper registered last for bytea's oid: psycopg.dbapi20's
# BinaryBinaryDumper, a Python method per field (it unwraps psycopg.Binary). The fields here are
# bytes, which the C dumper registered for bytes writes as they are: ~0.3 us per row less.
_BYTES_DUMPER = psycopg.adapters.get_dumper(bytes, PyFormat.BINARY)


def _copy(cursor: Cursor[Any], target: sql.Composable, columns: Sequence[str],
          types: Sequence[str], records: Iterable[tuple[Any, ...]]) -> None:
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
        target, sql.SQL(", ").join(map(sql.Identifier, columns)))
    cursor.adapters.register_dumper(bytes, _BYTES_DUMPER)  # this cursor only
    with cursor.copy(statement) as copy:
        copy.set_types(types)
        for record in records:
            copy.write_row(record)


def copy_rows(conn: Connection, table: str, columns: Sequence[str], types: Sequence[str],
              records: Sequence[tuple[Any, ...]]) -> int:
    """COPY ``records`` into ``table``, skipping rows whose key exists; returns rows inserted.

    ``types`` are the types psycopg dumps each field as (``bytea`` for pre-encoded json/jsonb).
    Runs in the caller's transaction.
    """
    if not records:
        return 0
    with _raw_cursor(conn) as cursor:
        cursor.execute("SAVEPOINT modelwatch_copy")
        try:
            _copy(cursor, sql.Identifier(table), columns, types, records)
        except errors.UniqueViolation:
            # A retried batch, or one row twice in a batch: let the database sort them out.
            cursor.execute("ROLLBACK TO SAVEPOINT modelwatch_copy")
            return _copy_via_staging(cursor, table, columns, types, records)
        cursor.execute("RELEASE SAVEPOINT modelwatch_copy")
        return len(records)


def _copy_rows_as_sqlalchemy(conn: Connection, table: str, columns: Sequence[str],
                             types: Sequence[str], records: Sequence[tuple[Any, ...]]) -> int:
    """copy_rows, raising what the INSERT path raises: SQLAlchemy's wrappers of the psycopg
    error (OperationalError when the server went away, which callers answer with 503)."""
    try:
        return copy_rows(conn, table, columns, types, records)
    except psycopg.Error as exc:
        # SQLAlchemy never saw the raw cursor: tell it when the connection is dead, so the pool
        # drops it instead of handing it out again.
        broken = bool(getattr(conn.connection.dbapi_connection, "broken", False))
        if broken:
            conn.invalidate(exc)
        raise sa.exc.DBAPIError.instance(
            f"COPY {table}", None, exc, psycopg.Error, connection_invalidated=broken,
            dialect=conn.dialect) from exc


def _copy_via_staging(cursor: Cursor[Any], table: str, columns: Sequence[str],
                      types: Sequence[str], records: Sequence[tuple[Any, ...]]) -> int:
    staging = sql.Identifier(f"modelwatch_staging_{table}")
    column_list = sql.SQL(", ").join(map(sql.Identifier, columns))
    # No constraints are copied by LIKE, so duplicates load; ON COMMIT DROP cleans up.
    cursor.execute(sql.SQL(
        "CREATE TEMPORARY TABLE IF NOT EXISTS {} (LIKE {}) ON COMMIT DROP"
    ).format(staging, sql.Identifier(table)))
    cursor.execute(sql.SQL("TRUNCATE {}").format(staging))
    _copy(cursor, staging, columns, types, records)
    cursor.execute(sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} ON CONFLICT DO NOTHING").format(
        sql.Identifier(table), column_list, column_list, staging))
    return max(cursor.rowcount, 0)


PREDICTION_COLUMNS = (
    "time", "model", "version", "prediction_id", "features", "prediction", "prediction_value",
    "score", "probabilities", "latency_ms", "error", "slices", "weight", "received_at",
)
PREDICTION_TYPES = (
    "timestamptz", "text", "text", "text", "bytea", "text", "float8",
    "float8", "bytea", "float8", "text", "bytea", "float8", "timestamptz",
)
# Appended when a batch carries feature times (PredictionColumns.has_freshness); other
# batches COPY the columns above alone and leave these NULL, at no cost.
FRESHNESS_COLUMNS = ("feature_lag_s", "feature_lags")
FRESHNESS_TYPES = ("float8", "bytea")
LABEL_COLUMNS = ("time", "model", "prediction_id", "label", "label_value", "received_at")
LABEL_TYPES = ("timestamptz", "text", "text", "text", "float8", "timestamptz")


def _aware(times: list[datetime]) -> list[datetime]:
    if None in map(_tzinfo, times):
        raise ValueError("naive datetime: modelwatch stores aware UTC times only")
    return times


_tzinfo = attrgetter("tzinfo")


def _documents(column: sa.Column[Any], values: list[Any]) -> list[bytes | None]:
    """A JSON column's values as COPY fields (what document_field makes), inlined: this runs
    once per row. ``bytes`` values are JSON text already (collector.columnar makes them)."""
    encode = _encode
    if document_field(column) is jsonb_field:
        return [None if v is None else JSONB_VERSION + (v if v.__class__ is bytes else encode(v)) for v in values]
    return [None if v is None else v if v.__class__ is bytes else encode(v) for v in values]


def prediction_copy_columns(batch: PredictionColumns) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The columns ``prediction_records`` fills for ``batch``, and their COPY types."""
    if batch.has_freshness:
        return PREDICTION_COLUMNS + FRESHNESS_COLUMNS, PREDICTION_TYPES + FRESHNESS_TYPES
    return PREDICTION_COLUMNS, PREDICTION_TYPES


def prediction_records(batch: PredictionColumns, received_at: datetime) -> list[tuple[Any, ...]]:
    """Rows as COPY fields, in ``prediction_copy_columns(batch)`` order (PREDICTION_COLUMNS,
    plus FRESHNESS_COLUMNS when the batch has feature times). Raises ValueError for a naive time.

    Built column by column and zipped (in C): no per-row Python work but the JSON encoding.
    """
    columns = [
        _aware(batch.time), batch.model, batch.version, batch.prediction_id,
        _documents(schema.predictions.c.features, batch.features), batch.prediction,
        batch.prediction_value, batch.score, _documents(schema.predictions.c.probabilities, batch.probabilities),
        batch.latency_ms, batch.error, _documents(schema.predictions.c.slices, batch.slices), batch.weight,
        repeat(received_at, len(batch)),
    ]
    if batch.has_freshness:
        columns += [batch.feature_lag_s, _documents(schema.predictions.c.feature_lags, batch.feature_lags)]
    return list(zip(*columns))


def label_records(rows: Sequence[LabelRow], received_at: datetime) -> list[tuple[Any, ...]]:
    return [(_utc(r.time), r.model, r.prediction_id, r.label, r.label_value, received_at) for r in rows]


def copy_predictions(engine: Engine, batch: PredictionColumns) -> WriteResult:
    """Store predictions once each by binary COPY, committed before returning.

    Raises ValueError for a naive timestamp, and SQLAlchemy's DBAPIError subclasses like the
    INSERT path does: DataError for a row the server rejects (the whole batch is rolled back),
    OperationalError when the server is unreachable or goes away mid-batch.
    """
    if not len(batch):
        return WriteResult(0, 0)
    received_at = datetime.now(timezone.utc)
    with engine.begin() as conn:
        if supports_copy(conn):
            inserted = _copy_rows_as_sqlalchemy(conn, schema.predictions.name, *prediction_copy_columns(batch),
                                                prediction_records(batch, received_at))
        else:
            inserted = writes.insert_ignoring_duplicates(
                conn, schema.predictions, writes.prediction_dicts(batch, received_at))
    return WriteResult(inserted, len(batch) - inserted)


def copy_labels(engine: Engine, rows: Sequence[LabelRow]) -> WriteResult:
    """Store labels once each by binary COPY, committed before returning."""
    if not rows:
        return WriteResult(0, 0)
    received_at = datetime.now(timezone.utc)
    with engine.begin() as conn:
        if supports_copy(conn):
            inserted = _copy_rows_as_sqlalchemy(conn, schema.labels.name, LABEL_COLUMNS, LABEL_TYPES,
                                                label_records(rows, received_at))
        else:
            inserted = writes.insert_ignoring_duplicates(
                conn, schema.labels, writes.label_dicts(rows, received_at))
    return WriteResult(inserted, len(rows) - inserted)
