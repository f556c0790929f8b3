"""Late labels: which predictions got labels since the last scan, and the per-model watermark.

The scan reads labels by ``received_at`` (indexed with the model, see store/schema_scheduler.py)
and joins them to their predictions for the prediction time, which says the window.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from store import schema
from store.schema_scheduler import analysis_label_scans as S


def scanned_until(engine: Engine, model: str) -> datetime | None:
    """Labels received up to this time were scanned for ``model`` (None: never)."""
    with engine.connect() as conn:
        return conn.execute(sa.select(S.c.scanned_until).where(S.c.model == model)).scalar_one_or_none()


def advance_scan(engine: Engine, model: str, until: datetime) -> None:
    """Move the watermark forward to ``until`` (never back: a slower replica cannot rewind it)."""
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(S).values(model=model, scanned_until=until)
    stmt = stmt.on_conflict_do_update(index_elements=[S.c.model], set_={"scanned_until": until},
                                      where=S.c.scanned_until < until)
    with engine.begin() as conn:
        conn.execute(stmt)


def labels_received(engine: Engine, model: str, after: datetime, until: datetime,
                    predictions_since: datetime) -> tuple[np.ndarray, np.ndarray]:
    """(prediction time, label received_at), both epoch seconds, for labels of ``model``
    received in ``(after, until]`` whose prediction is not older than ``predictions_since``."""
    p, lb = schema.predictions, schema.labels
    # times as datetimes, turned into epoch seconds here: SQLite's julianday arithmetic is ~20 us
    # off, which would put a prediction at 07:00:00 exactly into the window before
    query = (
        sa.select(p.c.time, lb.c.received_at)
        .join(p, sa.and_(p.c.model == lb.c.model, p.c.prediction_id == lb.c.prediction_id))
        .where(lb.c.model == model, lb.c.received_at > after, lb.c.received_at <= until,
               p.c.model == model, p.c.time >= predictions_since)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    if not rows:
        return np.empty(0), np.empty(0)
    times = np.fromiter((t.timestamp() for t, _ in rows), np.float64, len(rows))
    received = np.fromiter((r.timestamp() for _, r in rows), np.float64, len(rows))
    return times, received
