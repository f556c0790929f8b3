"""Reads for the analysis jobs: one window of a model's predictions as numpy columns, with the
latest label of each prediction joined by prediction id.

Memory: one pass over the rows into per-column numpy arrays; no per-row frames. The feature
documents travel as raw JSON text and are decoded by msgspec into structs typed by the model's
schema (store/feature_decode.py; text features are skipped by the decoder). Slice tags are
extracted by the database. On PostgreSQL the latest label comes with each prediction (LEFT JOIN
LATERAL on the labels' primary key); elsewhere labels are fetched by prediction id and joined
here.

Pushing the feature extraction into PostgreSQL (``json_to_record`` + binary COPY of the numbers)
was measured slower: 0.26 s against 0.19 s per 10,000 x 25-feature window, as the server parses
json text far slower than msgspec does.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.elements import ColumnElement

from config.monitors import FeatureType, Model, Task
from store import schema
from store.feature_decode import (
    decode_documents, feature_columns, floats, object_column, probability_matrix, slice_columns, slice_values,
    typed_feature_columns,
)

__all__ = ["LabelColumns", "WindowData", "epoch_seconds", "feature_columns", "join_labels", "label_rows",
           "read_window", "slice_columns", "with_ids"]

_SQLITE_IDS = 10_000  # bound parameters per statement (SQLite allows 32,766)


@dataclass(frozen=True, eq=False)
class WindowData:
    """A model's predictions with ``start <= time < end`` as columns (row i is one prediction).

    ``features``: float64 for numeric features (NaN = missing), object (text or None) for
    categorical ones; ``raw_features`` holds the as-sent values of a numeric feature only when
    some of them are not numbers (type violations), for the quality check. ``slices``: text or
    None per declared slice key, from the prediction's slice tags or, failing that, the feature
    of that name. Label columns are aligned with the rows: None / NaN where no label arrived.
    """

    start: datetime
    end: datetime
    time: np.ndarray  # float64 epoch seconds
    prediction_id: np.ndarray  # object
    version: np.ndarray  # object
    weight: np.ndarray  # float64, 1 / sampling rate
    features: dict[str, np.ndarray]
    slices: dict[str, np.ndarray]
    prediction: np.ndarray  # object: class label or regression value as text
    prediction_value: np.ndarray  # float64
    score: np.ndarray  # float64, positive-class probability (binary)
    probabilities: np.ndarray | None  # float64 (n, len(classes)), multiclass only
    label: np.ndarray  # object, text or None
    label_value: np.ndarray  # float64
    label_time: np.ndarray  # float64 epoch seconds, NaN when unlabeled
    raw_features: dict[str, np.ndarray] = field(default_factory=dict)
    # Feature freshness (collector.freshness): the stalest feature's lag in seconds, NaN where no
    # feature time was sent; per feature (only features some row sent a time for), NaN elsewhere.
    feature_lag_s: np.ndarray | None = None
    feature_lags: dict[str, np.ndarray] = field(default_factory=dict)
    # Predictions the model failed on (``error`` set) and their latency (NaN when not sent), for
    # the per-slice error and slow-request rates; None only where a window is built by hand.
    failed: np.ndarray | None = None  # bool
    latency_ms: np.ndarray | None = None  # float64

    @property
    def n(self) -> int:
        return int(self.time.shape[0])

    @property
    def labeled(self) -> np.ndarray:
        return ~np.isnan(self.label_time)

    @property
    def total_weight(self) -> float:
        return float(self.weight.sum())


def epoch_seconds(column: ColumnElement[Any], dialect: str) -> ColumnElement[float]:
    """Seconds since 1970 of a UtcDateTime column, computed by the database."""
    if dialect == "postgresql":
        return sa.cast(sa.extract("epoch", column), sa.Float)
    # SQLite stores naive UTC text; julianday is exact to ~20 microseconds at today's dates
    return (sa.func.julianday(column) - 2440587.5) * 86400.0


def _tag(column: ColumnElement[Any], key: str, dialect: str) -> ColumnElement[Any]:
    """One slice tag's value, extracted by the database."""
    if dialect == "postgresql":
        return sa.func.jsonb_extract_path_text(column, key)
    return sa.func.json_extract(column, '$."' + key.replace('"', '""') + '"')


@dataclass(frozen=True, eq=False)
class LabelColumns:
    label: np.ndarray
    label_value: np.ndarray
    label_time: np.ndarray
    n_labeled: int


def join_labels(prediction_ids: np.ndarray, rows: Sequence[Any]) -> LabelColumns:
    """Align label rows (prediction_id, label, label_value, time, received) with the window's
    predictions: the latest label per prediction wins (by label time; the key makes it unique)."""
    n = prediction_ids.shape[0]
    label = np.full(n, None, dtype=object)
    value = np.full(n, np.nan)
    when = np.full(n, np.nan)
    latest: dict[str, tuple[Any, ...]] = {}
    for row in sorted(rows, key=lambda r: (r[3], r[4])):
        latest[row[0]] = row  # later rows overwrite: the latest label wins
    if latest:
        index = {pid: i for i, pid in enumerate(prediction_ids.tolist())}
        for pid, row in latest.items():
            i = index.get(pid)
            if i is not None:
                label[i], when[i] = row[1], row[3]
                value[i] = math.nan if row[2] is None else row[2]
    return LabelColumns(label, value, when, int(np.count_nonzero(~np.isnan(when))))


def with_ids(column: ColumnElement[Any], ids: Sequence[str], dialect: str) -> Iterator[ColumnElement[bool]]:
    """Conditions ``column IN ids``: one array parameter on PostgreSQL, chunks under SQLite's
    variable limit. Looking rows up by id keeps the plan on the primary key whatever the
    planner's statistics say (a fresh table has none, and then a join was planned as a nested
    loop over every label of the model: 0.8 s for 1,500 rows)."""
    if dialect == "postgresql":
        yield column == sa.any_(sa.bindparam("ids", list(ids), type_=ARRAY(sa.String)))
        return
    for offset in range(0, len(ids), _SQLITE_IDS):
        yield column.in_(list(ids[offset:offset + _SQLITE_IDS]))


def label_rows(conn: Connection, model: str, prediction_ids: Sequence[str]) -> list[Any]:
    """Every label row of these predictions: (prediction_id, label, label_value, time epoch,
    received_at epoch)."""
    lb = schema.labels
    dialect = conn.dialect.name
    columns = (lb.c.prediction_id, lb.c.label, lb.c.label_value, epoch_seconds(lb.c.time, dialect),
               epoch_seconds(lb.c.received_at, dialect))
    rows: list[Any] = []
    for condition in with_ids(lb.c.prediction_id, prediction_ids, dialect):
        rows.extend(conn.execute(sa.select(*columns).where(lb.c.model == model, condition)).all())
    return rows


def _latest_label(dialect: str) -> tuple[Any, list[ColumnElement[Any]]]:
    """PostgreSQL: the latest label of each prediction as a LATERAL subquery (an index probe per
    prediction, whatever the table statistics say) and its columns."""
    p, lb = schema.predictions, schema.labels
    latest = (sa.select(lb.c.label, lb.c.label_value, epoch_seconds(lb.c.time, dialect).label("label_time"))
              .where(lb.c.model == p.c.model, lb.c.prediction_id == p.c.prediction_id)
              # (model, prediction_id, time) is the primary key: time alone orders a prediction's
              # labels, so the probe is a backward index scan with no sort
              .order_by(lb.c.time.desc()).limit(1).lateral("latest"))
    return latest, [latest.c.label, latest.c.label_value, latest.c.label_time]


def lag_columns(texts: Sequence[str | None], n: int) -> dict[str, np.ndarray]:
    """Per-feature lag documents (JSON text, None for SQL NULL) as one float64 column per
    feature named in any of them, NaN where a row has no lag for it. Rows without a document
    (most, usually) cost one comparison."""
    present = [(i, text) for i, text in enumerate(texts) if text is not None]
    out: dict[str, np.ndarray] = {}
    if not present:
        return out
    for (i, _), lags in zip(present, decode_documents([text for _, text in present])):
        for name, lag in lags.items():
            column = out.get(name)
            if column is None:
                column = out[name] = np.full(n, np.nan)
            column[i] = np.nan if lag is None else lag
    return out


def _in_stable_order(by_column: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Columns ordered by (time, prediction_id): the database gave time order; ties (same
    microsecond) are put in id order so a rerun sees the rows in the same order."""
    times = np.asarray(by_column[0], dtype=np.float64)
    if times.shape[0] < 2 or bool(np.all(times[1:] > times[:-1])):
        return by_column
    order = np.lexsort((np.asarray(by_column[1], dtype=object), times)).tolist()
    return [tuple(column[i] for i in order) for column in by_column]


def _fetch_all(conn: Connection, query: sa.Select[Any]) -> Sequence[Any]:
    """Every row as a tuple. On PostgreSQL straight from psycopg's cursor: SQLAlchemy's row
    processing cost ~4 us a row here (a third of the fetch) and these columns need none -- the
    only bound values (model name, aware UTC datetimes, slice keys) go to psycopg as they are."""
    if conn.dialect.name != "postgresql":
        return conn.execute(query).all()
    compiled = query.compile(dialect=conn.dialect)
    with conn.connection.dbapi_connection.cursor() as cursor:  # type: ignore[union-attr]
        cursor.execute(str(compiled), compiled.params)
        return cursor.fetchall()


def read_window(engine: Engine, model: Model, start: datetime, end: datetime) -> WindowData:
    """The window ``[start, end)`` of ``model`` with labels joined (see WindowData)."""
    p = schema.predictions
    dialect = engine.dialect.name
    columns = [epoch_seconds(p.c.time, dialect), p.c.prediction_id, p.c.version, p.c.weight,
               sa.cast(p.c.features, sa.Text), p.c.prediction, p.c.prediction_value, p.c.score,
               sa.cast(p.c.probabilities, sa.Text), *(_tag(p.c.slices, k, dialect) for k in model.slices)]
    source: Any = p
    lateral = dialect == "postgresql"
    if lateral:
        latest, label_columns = _latest_label(dialect)
        columns += label_columns
        source = p.outerjoin(latest, sa.true())
    columns += [p.c.error.is_not(None), p.c.latency_ms]  # failed, latency: just before the freshness two
    columns += [p.c.feature_lag_s, sa.cast(p.c.feature_lags, sa.Text)]  # always the last two
    query = (sa.select(*columns).select_from(source)
             .where(p.c.model == model.name, p.c.time >= start, p.c.time < end)
             # the (model, time) index's order: no sort of the wide rows (it spilled to disk)
             .order_by(p.c.time))
    with engine.connect() as conn:
        rows = _fetch_all(conn, query)
        labels = [] if lateral or not rows else label_rows(conn, model.name, [r[1] for r in rows])
    n = len(rows)
    width = 9 + len(model.slices) + (3 if lateral else 0) + 4
    by_column = _in_stable_order(list(zip(*rows))) if rows else [()] * width
    prediction_id = object_column(by_column[1])
    if lateral:
        at = 9 + len(model.slices)
        joined = LabelColumns(object_column(by_column[at]), floats(by_column[at + 1], n), floats(by_column[at + 2], n),
                              sum(v is not None for v in by_column[at + 2]))
    else:
        joined = join_labels(prediction_id, labels)
    typed = typed_feature_columns(model, by_column[4])
    documents = None if typed is not None else decode_documents(by_column[4])
    if typed is not None:
        features = {f.name: typed[f.name] for f in model.features if f.type is not FeatureType.text}
        raw: dict[str, np.ndarray] = {}
    else:
        features, raw = feature_columns(model, documents or [])
    tags = {k: by_column[9 + i] for i, k in enumerate(model.slices)}
    return WindowData(
        start=start, end=end, time=floats(by_column[0], n), prediction_id=prediction_id,
        version=object_column(by_column[2]), weight=floats(by_column[3], n), features=features,
        slices=slice_values(model, tags, typed if typed is not None else features, documents),
        prediction=object_column(by_column[5]), prediction_value=floats(by_column[6], n), score=floats(by_column[7], n),
        probabilities=probability_matrix(model, decode_documents(by_column[8])) if model.task is Task.multiclass else None,
        label=joined.label, label_value=joined.label_value, label_time=joined.label_time, raw_features=raw,
        feature_lag_s=floats(by_column[width - 2], n), feature_lags=lag_columns(by_column[width - 1], n),
        failed=np.asarray(by_column[width - 4], dtype=bool).reshape(n), latency_ms=floats(by_column[width - 3], n),
    )
