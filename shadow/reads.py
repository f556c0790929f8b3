"""Reads of stored predictions for replay: keyset pages of feature columns, skipping rows a
candidate already has outputs for.

Pages are ordered by (time, prediction_id), which the (model, time) index serves; the position
after a page is its last row's key, so a resumed replay starts exactly where the last stored
page ended.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from config.monitors import Model
from store import schema
from store.analysis_reads import feature_columns
from store.schema_shadow import shadow_outputs

__all__ = ["FeatureBatch", "Key", "read_page", "read_recent"]

Key = tuple[datetime, str]  # (time, prediction_id) of a prediction: the keyset position


@dataclass(frozen=True, eq=False)
class FeatureBatch:
    prediction_id: np.ndarray  # object
    time: list[datetime]
    features: dict[str, np.ndarray]
    raw: dict[str, np.ndarray]

    @property
    def n(self) -> int:
        return int(self.prediction_id.shape[0])

    @property
    def last_key(self) -> Key | None:
        return (self.time[-1], str(self.prediction_id[-1])) if self.n else None

    def take(self, rows: np.ndarray) -> FeatureBatch:
        """The batch restricted to ``rows`` (indices), in order."""
        return FeatureBatch(self.prediction_id[rows], [self.time[i] for i in rows.tolist()],
                            {k: v[rows] for k, v in self.features.items()}, {k: v[rows] for k, v in self.raw.items()})


def _batch(model: Model, rows: list[Any]) -> FeatureBatch:
    # One msgspec call for the page's feature documents instead of json.loads per row.
    documents = msgspec.json.decode("[" + ",".join(r[2] if r[2] is not None else "null" for r in rows) + "]")
    features, raw = feature_columns(model, documents)
    ids = np.empty(len(rows), dtype=object)
    ids[:] = [r[1] for r in rows]
    return FeatureBatch(ids, [r[0] for r in rows], features, raw)


def read_page(conn: Connection, model: Model, candidate_id: int, start: datetime, end: datetime,
              after: Key | None, limit: int) -> FeatureBatch:
    """Up to ``limit`` predictions of ``model`` with ``start <= time < end`` after keyset
    position ``after``, that candidate ``candidate_id`` has no output for yet."""
    p = schema.predictions
    done = sa.exists().where(shadow_outputs.c.candidate_id == candidate_id,
                             shadow_outputs.c.prediction_id == p.c.prediction_id)
    query = (sa.select(p.c.time, p.c.prediction_id, sa.cast(p.c.features, sa.Text))
             .where(p.c.model == model.name, p.c.time >= start, p.c.time < end, ~done)
             .order_by(p.c.time, p.c.prediction_id).limit(limit))
    if after is not None:
        query = query.where(p.c.time >= after[0],
                            sa.or_(p.c.time > after[0], p.c.prediction_id > after[1]))
    return _batch(model, list(conn.execute(query).all()))


def read_recent(conn: Connection, model: Model, limit: int) -> FeatureBatch:
    """The ``limit`` latest predictions of ``model`` (registration runs them)."""
    p = schema.predictions
    query = (sa.select(p.c.time, p.c.prediction_id, sa.cast(p.c.features, sa.Text))
             .where(p.c.model == model.name).order_by(p.c.time.desc()).limit(limit))
    return _batch(model, list(conn.execute(query).all()))
