"""Small typed reads used by the collector's API (and later the dashboard)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from store import schema


@dataclass(frozen=True)
class ModelSummary:
    """What a model sent in ``[start, end)``. Predictions and labels are stored samples (rows);
    requests and errors are the exact counters every SDK call adds to."""

    model: str
    start: datetime
    end: datetime
    predictions: int
    labels: int
    requests: int
    errors: int
    latency_count: int
    latency_sum_ms: float
    dropped: dict[str, int]
    versions: tuple[str, ...]  # versions with predictions or counters in the range


def ping(engine: Engine) -> None:
    """Round trip to the database; raises the driver's error when it is unreachable."""
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))


def model_summary(engine: Engine, model: str, start: datetime, end: datetime) -> ModelSummary:
    """Counts for ``model`` with times in ``[start, end)``."""
    p, lb, c = schema.predictions, schema.labels, schema.request_counters
    in_p = (p.c.model == model) & (p.c.time >= start) & (p.c.time < end)
    in_c = (c.c.model == model) & (c.c.minute >= start) & (c.c.minute < end)
    with engine.connect() as conn:
        n_predictions = conn.execute(sa.select(sa.func.count()).select_from(p).where(in_p)).scalar_one()
        n_labels = conn.execute(
            sa.select(sa.func.count()).select_from(lb)
            .where(lb.c.model == model, lb.c.time >= start, lb.c.time < end)
        ).scalar_one()
        totals = conn.execute(sa.select(
            sa.func.coalesce(sa.func.sum(c.c.requests), 0), sa.func.coalesce(sa.func.sum(c.c.errors), 0),
            sa.func.coalesce(sa.func.sum(c.c.latency_count), 0), sa.func.coalesce(sa.func.sum(c.c.latency_sum_ms), 0.0),
        ).where(in_c)).one()
        # Drops are a handful of JSON maps per minute; summing them here keeps the SQL portable.
        dropped: dict[str, int] = {}
        for (counts,) in conn.execute(sa.select(c.c.dropped).where(in_c, c.c.dropped.is_not(None))):
            for reason, n in (counts or {}).items():
                dropped[reason] = dropped.get(reason, 0) + int(n)
        versions = conn.execute(
            sa.union(sa.select(p.c.version).where(in_p).distinct(), sa.select(c.c.version).where(in_c).distinct())
        ).scalars().all()
    return ModelSummary(
        model=model, start=start, end=end, predictions=n_predictions, labels=n_labels,
        requests=int(totals[0]), errors=int(totals[1]), latency_count=int(totals[2]),
        latency_sum_ms=float(totals[3]), dropped=dropped, versions=tuple(sorted(versions)),
    )


def known_versions(engine: Engine, model: str) -> set[str]:
    """Versions already recorded in ``model_versions`` for ``model``."""
    mv = schema.model_versions
    with engine.connect() as conn:
        return set(conn.execute(sa.select(mv.c.version).where(mv.c.model == model)).scalars())
