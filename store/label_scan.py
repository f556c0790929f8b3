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
from store.analysis_reads import with_ids
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
    received in ``(after, until]`` whose prediction is not older than ``predictions_since``.

    Two indexed lookups (labels by received_at, then their predictions by id) rather than one
    join, so the plan does not depend on table statistics (see analysis_reads.with_ids)."""
    p, lb = schema.predictions, schema.labels
    with engine.connect() as conn:
        received: dict[str, datetime] = {}
        for pid, at in conn.execute(sa.select(lb.c.prediction_id, lb.c.received_at).where(
                lb.c.model == model, lb.c.received_at > after, lb.c.received_at <= until)):
            if pid not in received or at > received[pid]:
                received[pid] = at
        found: list[tuple[datetime, datetime]] = []
        for condition in with_ids(p.c.prediction_id, list(received), engine.dialect.name):
            query = sa.select(p.c.prediction_id, p.c.time).where(p.c.model == model, condition,
                                                                 p.c.time >= predictions_since)
            found.extend((t, received[pid]) for pid, t in conn.execute(query))
    # epoch seconds from the datetimes here: SQLite's julianday arithmetic is ~20 us off, which
    # would put a prediction at 07:00:00 exactly into the window before
    times = np.fromiter((t.timestamp() for t, _ in found), np.float64, len(found))
    stamps = np.fromiter((r.timestamp() for _, r in found), np.float64, len(found))
    return times, stamps
