"""Reads for reports: a candidate's outputs in a time range joined to the logged predictions
(by model, prediction id and time: the predictions' primary key) and their latest labels."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import msgspec
import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from config.monitors import Model
from shadow.columns import PairedColumns
from shadow.compare import per_row_latency
from store import schema
from store.analysis_reads import join_labels, label_rows, slice_columns
from store.schema_shadow import shadow_outputs

__all__ = ["read_paired"]


def _floats(values: list[Any]) -> np.ndarray:
    return np.array([math.nan if v is None else v for v in values], dtype=np.float64)


def _objects(values: list[Any]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def read_paired(conn: Connection, model: Model, candidate_id: int, start: datetime, end: datetime) -> PairedColumns:
    """Every prediction of ``model`` in [start, end) that ``candidate_id`` replayed, paired."""
    p, s = schema.predictions, shadow_outputs
    # Slice keys that are features need the feature documents; slice tags alone do not.
    needs_features = any(model.feature(key) is not None for key in model.slices)
    columns: list[Any] = [s.c.prediction_id, p.c.weight, p.c.prediction, p.c.score, p.c.prediction_value, p.c.latency_ms,
               p.c.error, s.c.label, s.c.score, s.c.value, s.c.error, s.c.batch_latency_ms, s.c.batch_size, p.c.slices]
    if needs_features:
        columns.append(sa.cast(p.c.features, sa.Text))
    query = (sa.select(*columns)
             .join(p, sa.and_(p.c.model == model.name, p.c.prediction_id == s.c.prediction_id, p.c.time == s.c.time))
             .where(s.c.candidate_id == candidate_id, s.c.time >= start, s.c.time < end)
             .order_by(s.c.time, s.c.prediction_id))
    rows = list(conn.execute(query).all())
    by_column = list(zip(*rows)) if rows else [()] * len(columns)
    ids = _objects(list(by_column[0]))
    documents = None
    if needs_features:
        documents = msgspec.json.decode("[" + ",".join(t if t is not None else "null" for t in by_column[14]) + "]")
    labels = join_labels(ids, label_rows(conn, model.name, ids.tolist()) if rows else [])
    return PairedColumns(
        prediction_id=ids, weight=_floats(list(by_column[1])),
        prod_label=_objects(list(by_column[2])), prod_score=_floats(list(by_column[3])),
        prod_value=_floats(list(by_column[4])), prod_latency_ms=_floats(list(by_column[5])),
        prod_failed=np.array([e is not None for e in by_column[6]], dtype=bool),
        cand_label=_objects(list(by_column[7])), cand_score=_floats(list(by_column[8])),
        cand_value=_floats(list(by_column[9])),
        cand_latency_ms=per_row_latency(_floats(list(by_column[11])), _floats(list(by_column[12]))),
        cand_failed=np.array([e is not None for e in by_column[10]], dtype=bool),
        true_label=labels.label, true_value=labels.label_value,
        slices=slice_columns(model, list(by_column[13]), {}, documents))
