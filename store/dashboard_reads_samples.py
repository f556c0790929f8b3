"""Dashboard reads of sampled predictions: the inputs of recent failures, and the values of one
feature for the reference-vs-current histogram.

Bounded by a row limit or by the minutes the exact counters say had errors, so a 30-day range
never scans 30 days of rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from store import schema

__all__ = ["FailedPrediction", "feature_values", "recent_failures"]

_MINUTES_PER_READ = 5


@dataclass(frozen=True)
class FailedPrediction:
    time: datetime
    version: str
    prediction_id: str
    error: str
    latency_ms: float | None
    features: dict[str, Any]  # as stored: already redacted by the collector
    slices: dict[str, Any] | None


def _error_minutes(engine: Engine, model: str, start: datetime, end: datetime, version: str | None,
                   limit: int) -> list[datetime] | None:
    """The latest minutes with errors by the exact counters; None when no counters exist."""
    c = schema.request_counters
    where = [c.c.model == model, c.c.minute >= start, c.c.minute < end]
    if version is not None:
        where.append(c.c.version == version)
    with engine.connect() as conn:
        if conn.execute(sa.select(c.c.minute).where(*where).limit(1)).first() is None:
            return None
        return list(conn.execute(sa.select(c.c.minute).where(*where, c.c.errors > 0).group_by(c.c.minute)
                                 .order_by(c.c.minute.desc()).limit(limit)).scalars())


def recent_failures(engine: Engine, model: str, start: datetime, end: datetime, version: str | None = None,
                    limit: int = 20, scan_rows: int = 50_000) -> list[FailedPrediction]:
    """The latest sampled predictions that failed (``error`` set), newest first. Looked up in
    the minutes the counters say had errors; without counters, among the latest ``scan_rows``."""
    p = schema.predictions
    where = [p.c.model == model, p.c.time >= start, p.c.time < end]
    if version is not None:
        where.append(p.c.version == version)
    minutes = _error_minutes(engine, model, start, end, version, limit=limit * 3)
    columns = (p.c.time, p.c.version, p.c.prediction_id, p.c.error, p.c.latency_ms, p.c.features, p.c.slices)
    if minutes is None:
        recent = sa.select(*columns).where(*where).order_by(p.c.time.desc()).limit(scan_rows).subquery()
        queries = [sa.select(recent).where(recent.c.error.is_not(None)).order_by(recent.c.time.desc()).limit(limit)]
    else:
        # newest error minutes first, a few at a time: usually the first few hold enough samples
        queries = [sa.select(*columns).where(*where, p.c.error.is_not(None), sa.or_(
            *((p.c.time >= m) & (p.c.time < m + timedelta(minutes=1)) for m in minutes[i:i + _MINUTES_PER_READ])))
            .order_by(p.c.time.desc()).limit(limit) for i in range(0, len(minutes), _MINUTES_PER_READ)]
    found: list[FailedPrediction] = []
    with engine.connect() as conn:
        for query in queries:
            found += [FailedPrediction(r.time, r.version, r.prediction_id, r.error, r.latency_ms,
                                       dict(r.features or {}), r.slices) for r in conn.execute(query)]
            if len(found) >= limit:
                break
    return found[:limit]


def feature_values(engine: Engine, model: str, feature: str, numeric: bool, start: datetime, end: datetime,
                   limit: int = 10_000) -> tuple[np.ndarray, np.ndarray]:
    """(values, weights) of one feature in the latest ``limit`` predictions of ``[start, end)``,
    extracted from the feature documents by the database. Numeric: float64 with NaN for
    missing or non-numbers; else object (text or None)."""
    p = schema.predictions
    if engine.dialect.name == "sqlite":
        # json_extract keeps the JSON type of the value: a number, or the text someone sent
        value = sa.func.json_extract(p.c.features, sa.bindparam("path", f'$."{feature}"'))
    else:
        value = p.c.features[feature].as_string()  # ->>: text of any value
    query = (sa.select(value.label("value"), p.c.weight).where(p.c.model == model, p.c.time >= start, p.c.time < end)
             .order_by(p.c.time.desc()).limit(limit))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    weights = np.fromiter((r.weight for r in rows), np.float64, len(rows))
    if not numeric:
        values = np.empty(len(rows), dtype=object)
        values[:] = [r.value if r.value is None or isinstance(r.value, str) else str(r.value) for r in rows]
        return values, weights
    return np.fromiter((_float(r.value) for r in rows), np.float64, len(rows)), weights


def _float(value: Any) -> float:
    # text from PostgreSQL's ->>, a number or text from SQLite's json_extract
    try:
        return float(value) if value is not None else np.nan
    except (TypeError, ValueError):
        return np.nan
