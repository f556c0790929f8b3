"""The PostgreSQL window read: feature extraction pushed into SQL, numbers through binary COPY.

``json_to_record`` parses each feature document once on the server and casts the declared
features (float8 for numeric, text for categorical; text features are never read). The numeric
columns, with the per-row numbers (time, weight, score, prediction value), come back as one
binary COPY whose rows all have the same layout (NULL is turned into NaN), so numpy reads them
with one ``frombuffer`` -- no Python object per number. The text columns (ids, version,
prediction, categorical features, slice values) come from a plain SELECT in the same
REPEATABLE READ snapshot, in the same order, and the labels with them.

A value the cast refuses (text in a numeric feature: a type violation the quality check must
see) makes the server raise; ``read_window_pg`` then returns None and the caller uses the
portable path, which keeps what was sent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import psycopg
from psycopg import sql
from sqlalchemy.engine import Engine

from config.monitors import FeatureType, Model, Task
from store.analysis_reads import (
    WindowData, _decode_documents, _text_or_none, join_labels, label_rows, probability_matrix,
)

_HEADER = 19  # binary COPY: 11-byte signature, 4-byte flags, 4-byte extension length (0)
_TRAILER = 2  # int16 -1


def _numeric_layout(k: int) -> np.dtype:
    fields = [("count", ">i2")]
    for i in range(k):
        fields += [(f"l{i}", ">i4"), (f"v{i}", ">f8")]
    return np.dtype(fields)


def _record_type(model: Model) -> tuple[list[str], list[str], sql.Composable]:
    numeric = [f.name for f in model.features if f.type is FeatureType.numeric]
    categorical = [f.name for f in model.features if f.type is FeatureType.categorical]
    columns = [sql.SQL("{} float8").format(sql.Identifier(n)) for n in numeric]
    columns += [sql.SQL("{} text").format(sql.Identifier(n)) for n in categorical]
    if not columns:  # json_to_record needs at least one column
        columns = [sql.SQL("{} text").format(sql.Identifier("modelwatch_none"))]
    return numeric, categorical, sql.SQL(", ").join(columns)


def _source(model: Model, record: sql.Composable) -> sql.Composable:
    return sql.SQL("FROM predictions p, json_to_record(p.features) AS r({}) "
                   "WHERE p.model = %(model)s AND p.time >= %(start)s AND p.time < %(end)s").format(record)


_ORDER = sql.SQL(" ORDER BY p.time, p.prediction_id")


def _numbers(cursor: psycopg.Cursor[Any], model: Model, numeric: list[str], source: sql.Composable,
             params: dict[str, Any]) -> np.ndarray:
    nan = sql.SQL("'NaN'::float8")
    fields = [sql.SQL("extract(epoch from p.time)::float8"), sql.SQL("p.weight"),
              sql.SQL("coalesce(p.score, {})").format(nan), sql.SQL("coalesce(p.prediction_value, {})").format(nan)]
    fields += [sql.SQL("coalesce(r.{}, {})").format(sql.Identifier(n), nan) for n in numeric]
    query = sql.SQL("COPY (SELECT {} {}{}) TO STDOUT (FORMAT BINARY)").format(
        sql.SQL(", ").join(fields), source, _ORDER)
    chunks = []
    with cursor.copy(query, params) as copy:
        for chunk in copy:
            chunks.append(bytes(chunk))
    buffer = b"".join(chunks)
    layout = _numeric_layout(len(fields))
    body = memoryview(buffer)[_HEADER:len(buffer) - _TRAILER]
    if len(body) % layout.itemsize:
        raise ValueError("unexpected binary COPY layout")
    rows = np.frombuffer(body, dtype=layout)
    return np.stack([rows[f"v{i}"].astype(np.float64) for i in range(len(fields))]) if rows.shape[0] \
        else np.empty((len(fields), 0))


def _texts(cursor: psycopg.Cursor[Any], model: Model, categorical: list[str], source: sql.Composable,
           params: dict[str, Any]) -> list[tuple[Any, ...]]:
    fields = [sql.SQL("p.prediction_id"), sql.SQL("p.version"), sql.SQL("p.prediction"),
              sql.SQL("p.probabilities::text" if model.task is Task.multiclass else "NULL")]
    fields += [sql.SQL("r.{}").format(sql.Identifier(n)) for n in categorical]
    # a slice key is a slice tag, else the feature of that name (its JSON text)
    fields += [sql.SQL("coalesce(p.slices->>{}, p.features->>{})").format(sql.Literal(k), sql.Literal(k))
               for k in model.slices]
    cursor.execute(sql.SQL("SELECT {} {}{}").format(sql.SQL(", ").join(fields), source, _ORDER), params)
    return cursor.fetchall()


def _object_column(values: tuple[Any, ...] | list[Any]) -> np.ndarray:
    column = np.empty(len(values), dtype=object)
    column[:] = values
    return column


def read_window_pg(engine: Engine, model: Model, start: datetime, end: datetime) -> WindowData | None:
    """The window through SQL extraction (see module docstring); None when a numeric feature
    holds a value that is not a number, or the server cannot COPY out (PGlite)."""
    from store.pgcopy import supports_copy

    numeric, categorical, record = _record_type(model)
    source = _source(model, record)
    params = {"model": model.name, "start": start, "end": end}
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
        if not supports_copy(conn):
            return None
        raw = conn.connection.dbapi_connection
        try:
            with raw.cursor() as cursor:  # type: ignore[union-attr]
                numbers = _numbers(cursor, model, numeric, source, params)
                texts = _texts(cursor, model, categorical, source, params)
        except psycopg.errors.DataError:  # class 22: a value the cast refused
            raw.rollback()
            return None
        labels = label_rows(conn, model.name, [t[0] for t in texts]) if texts else []
        conn.rollback()  # read only: end the snapshot
    return _assemble(model, start, end, numbers, texts, numeric, categorical, labels)


def _assemble(model: Model, start: datetime, end: datetime, numbers: np.ndarray, texts: list[tuple[Any, ...]],
              numeric: list[str], categorical: list[str], labels: list[Any]) -> WindowData:
    n = len(texts)
    columns = list(zip(*texts)) if texts else [()] * (4 + len(categorical) + len(model.slices))
    features: dict[str, np.ndarray] = {name: numbers[4 + i] for i, name in enumerate(numeric)}
    features.update({name: _object_column(columns[4 + i]) for i, name in enumerate(categorical)})
    base = 4 + len(categorical)
    slices = {k: _object_column([_text_or_none(v) for v in columns[base + i]]) for i, k in enumerate(model.slices)}
    prediction_id = _object_column(columns[0])
    joined = join_labels(prediction_id, labels)
    probabilities = probability_matrix(model, _decode_documents(columns[3])) if model.task is Task.multiclass else None
    return WindowData(
        start=start, end=end, time=numbers[0], prediction_id=prediction_id, version=_object_column(columns[1]),
        weight=numbers[1], features=features, slices=slices, prediction=_object_column(columns[2]),
        prediction_value=numbers[3], score=numbers[2], probabilities=probabilities, label=joined.label,
        label_value=joined.label_value, label_time=joined.label_time,
    ) if n == numbers.shape[1] else _mismatch(n, numbers.shape[1])


def _mismatch(texts: int, numbers: int) -> WindowData:
    raise RuntimeError(f"window read returned {texts} text rows but {numbers} numeric rows in one snapshot")
