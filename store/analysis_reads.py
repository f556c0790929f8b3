"""Reads for the analysis jobs: one window of a model's predictions as numpy columns, with the
latest label of each prediction joined by prediction id.

Memory: one pass over the rows into per-column numpy arrays; no per-row frames. The feature
documents are decoded with msgspec in one call into a struct typed by the model's schema
(features the analysis does not use -- text -- are skipped by the decoder, never materialised).
On PostgreSQL the numeric columns come through binary COPY instead (store/analysis_reads_pg.py).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import msgspec
import numpy as np
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.elements import ColumnElement

from config.monitors import FeatureType, Model, Task
from store import schema

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


def _as_text(column: ColumnElement[Any]) -> ColumnElement[str]:
    # The raw JSON text: decoded below in one msgspec call instead of json.loads per row.
    return sa.cast(column, sa.Text)


def _decode_documents(texts: Sequence[str | None]) -> list[Any]:
    joined = "[" + ",".join("null" if t is None else t for t in texts) + "]"
    return msgspec.json.decode(joined)


def _floats(values: Iterable[Any], n: int) -> np.ndarray:
    return np.fromiter((math.nan if v is None else v for v in values), np.float64, n)


def _text_or_none(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _document_type(model: Model) -> tuple[Any, tuple[tuple[str, str], ...]]:
    """A msgspec struct for the model's feature documents: numeric features as float, the
    others read (categorical, and text ones used as slice keys) as text; everything else is
    skipped by the decoder. Returns it with its (attribute, feature name) pairs."""
    wanted = [f for f in model.features if f.type is not FeatureType.text or f.name in model.slices]
    fields = [(f"f{i}", (float | None) if f.type is FeatureType.numeric else (str | None), None)
              for i, f in enumerate(wanted)]
    struct = msgspec.defstruct(f"Features_{model.name}", fields, rename={f"f{i}": f.name for i, f in enumerate(wanted)})
    return struct, tuple((f"f{i}", f.name) for i, f in enumerate(wanted))


_DOCUMENT_TYPES: dict[tuple[Any, ...], tuple[Any, Any]] = {}


def typed_feature_columns(model: Model, texts: Sequence[str]) -> dict[str, np.ndarray] | None:
    """Columns of the non-text features (and text ones that are slice keys) decoded from the raw
    JSON texts into typed structs in one msgspec call -- about twice as fast as dicts and
    ``get``; None when a value does not fit its declared type (the caller keeps what was sent)."""
    key = tuple((f.name, f.type) for f in model.features) + tuple(model.slices)
    if key not in _DOCUMENT_TYPES:
        struct, names = _document_type(model)
        _DOCUMENT_TYPES[key] = (msgspec.json.Decoder(list[struct]), names)
    decoder, names = _DOCUMENT_TYPES[key]
    try:
        documents = decoder.decode("[" + ",".join(texts) + "]")
    except msgspec.ValidationError:
        return None
    kinds = {f.name: f.type for f in model.features}
    out: dict[str, np.ndarray] = {}
    for attribute, name in names:
        values = list(map(operator.attrgetter(attribute), documents))
        if kinds[name] is FeatureType.numeric:
            out[name] = np.array(values, dtype=np.float64) if values else np.empty(0)
        else:
            out[name] = _object_column(values)
    return out


def _object_column(values: Sequence[Any]) -> np.ndarray:
    column = np.empty(len(values), dtype=object)
    column[:] = values
    return column


def feature_columns(model: Model, documents: Sequence[Any]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(features, raw_features) of ``model``'s numeric and categorical features from the
    decoded feature documents (dicts). Text features are not read."""
    n = len(documents)
    features: dict[str, np.ndarray] = {}
    raw: dict[str, np.ndarray] = {}
    for feature in model.features:
        if feature.type is FeatureType.text:
            continue
        values = [None if d is None else d.get(feature.name) for d in documents]
        if feature.type is FeatureType.numeric:
            try:
                features[feature.name] = np.array(values, dtype=np.float64) if n else np.empty(0)
            except (TypeError, ValueError):
                # not all numbers: drift sees the numbers, quality sees what was sent
                raw[feature.name] = np.array(values, dtype=object)
                features[feature.name] = np.array(
                    [v if isinstance(v, (int, float)) and not isinstance(v, bool) else math.nan for v in values],
                    dtype=np.float64)
        else:
            features[feature.name] = _object_column([_text_or_none(v) for v in values])
    return features, raw


def slice_columns(model: Model, tags: Sequence[Any], features: dict[str, np.ndarray],
                  documents: Sequence[Any] | None = None) -> dict[str, np.ndarray]:
    """Per declared slice key: the slice tag's value, else the feature of that name (as text)."""
    n = len(tags)
    out: dict[str, np.ndarray] = {}
    for key in model.slices:
        column = np.empty(n, dtype=object)
        column[:] = [None if t is None else _text_or_none(t.get(key)) for t in tags]
        if key in features or documents is not None:
            missing = np.fromiter((v is None for v in column), bool, n)
            if missing.any():
                source = features.get(key)
                if source is None and documents is not None:
                    source = np.array([None if d is None else d.get(key) for d in documents], dtype=object)
                if source is not None:
                    column[missing] = [_text_or_none(None if isinstance(v, float) and math.isnan(v) else v)
                                       for v in source[missing].tolist()]
        out[key] = column
    return out


def probability_matrix(model: Model, documents: Sequence[Any]) -> np.ndarray | None:
    """(n, k) class probabilities in ``model.classes`` order (NaN where absent); multiclass only."""
    if model.task is not Task.multiclass or not model.classes:
        return None
    out = np.full((len(documents), len(model.classes)), np.nan)
    for i, d in enumerate(documents):
        if d:
            for j, c in enumerate(model.classes):
                v = d.get(c)
                if v is not None:
                    out[i, j] = v
    return out


@dataclass(frozen=True, eq=False)
class LabelColumns:
    label: np.ndarray
    label_value: np.ndarray
    label_time: np.ndarray
    n_labeled: int


def join_labels(prediction_ids: np.ndarray, rows: Sequence[Any]) -> LabelColumns:
    """Align label rows (prediction_id, label, label_value, time, received) with the window's
    predictions: the latest label per prediction wins (by label time, then receive time)."""
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


def read_window(engine: Engine, model: Model, start: datetime, end: datetime) -> WindowData:
    """The window ``[start, end)`` of ``model`` with labels joined (see WindowData)."""
    if engine.dialect.name == "postgresql":
        from store.analysis_reads_pg import read_window_pg

        pushed = read_window_pg(engine, model, start, end)
        if pushed is not None:
            return pushed
    return read_window_portable(engine, model, start, end)


def read_window_portable(engine: Engine, model: Model, start: datetime, end: datetime) -> WindowData:
    """read_window on any dialect: raw JSON texts decoded by msgspec here."""
    p = schema.predictions
    dialect = engine.dialect.name
    query = (
        sa.select(epoch_seconds(p.c.time, dialect), p.c.prediction_id, p.c.version, p.c.weight,
                  _as_text(p.c.features), _as_text(p.c.slices), p.c.prediction, p.c.prediction_value,
                  p.c.score, _as_text(p.c.probabilities))
        .where(p.c.model == model.name, p.c.time >= start, p.c.time < end)
        .order_by(p.c.time, p.c.prediction_id)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
        labels = label_rows(conn, model.name, [r[1] for r in rows]) if rows else []
    n = len(rows)
    columns = list(zip(*rows)) if rows else [()] * 10
    typed = typed_feature_columns(model, columns[4])
    if typed is not None:
        documents = None
        features = {f.name: typed[f.name] for f in model.features if f.type is not FeatureType.text}
        raw: dict[str, np.ndarray] = {}
        slice_sources = typed
    else:
        documents = _decode_documents(columns[4])
        features, raw = feature_columns(model, documents)
        slice_sources = features
    prediction_id = np.array(columns[1], dtype=object)
    joined = join_labels(prediction_id, labels)
    return WindowData(
        start=start, end=end, time=_floats(columns[0], n), prediction_id=prediction_id,
        version=np.array(columns[2], dtype=object), weight=_floats(columns[3], n), features=features,
        slices=slice_columns(model, _decode_documents(columns[5]), slice_sources, documents),
        prediction=np.array(columns[6], dtype=object), prediction_value=_floats(columns[7], n),
        score=_floats(columns[8], n), probabilities=probability_matrix(model, _decode_documents(columns[9])),
        label=joined.label, label_value=joined.label_value, label_time=joined.label_time, raw_features=raw,
    )


def utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, timezone.utc)
