"""Reads for the dashboard: traffic and latency histograms, versions and deploys, fleet counts.

Everything is aggregated in SQL (GROUP BY model / time bucket) over ``request_counters``, the
exact SDK counters: a 30-day view reads one row per bucket, never the raw predictions. Latency
percentiles are then interpolated from the summed histogram buckets (analysis.stats.histogram), the
way Prometheus' histogram_quantile does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from modelwatch.counters import DEFAULT_BOUNDS_MS
from store import schema
from store.deploy_reads import DeployMark, deploy_mark_counts, deploy_marks
from store.slo_reads import Bucketing, bound_key

__all__ = [
    "Deploy", "TrafficSeries", "current_version", "deploy_counts", "deploys", "fleet_traffic",
    "model_versions", "traffic_series",
]

INF_KEY = "+Inf"
_KEY_SAMPLE_ROWS = 20  # recent counter rows whose bucket keys are read (clients may send other bounds)


@dataclass(frozen=True, eq=False)
class TrafficSeries:
    """Counter sums per time bucket (``starts``: epoch minutes, ascending).

    ``buckets[i, j]`` counts requests of bucket i with latency in (bounds_ms[j-1], bounds_ms[j]];
    the last column is the +Inf bucket. Bounds from every client are merged, so a row's
    buckets may be zero where its client did not use a bound.
    """

    step_minutes: int
    bounds_ms: tuple[float, ...]
    starts: np.ndarray
    requests: np.ndarray
    errors: np.ndarray
    latency_count: np.ndarray
    latency_sum_ms: np.ndarray
    buckets: np.ndarray

    @property
    def total_requests(self) -> int:
        return int(self.requests.sum())

    @property
    def total_errors(self) -> int:
        return int(self.errors.sum())

    @property
    def total_buckets(self) -> np.ndarray:
        """The histogram of the whole range (bucket sums add up exactly)."""
        return self.buckets.sum(axis=0) if self.buckets.size else np.zeros(len(self.bounds_ms) + 1)


def _parse_bound(key: str) -> float | None:
    try:
        value = float(key)
    except ValueError:
        return None
    return value if np.isfinite(value) else None


def _stored_bounds(conn: Connection, model: str, start: datetime, end: datetime) -> set[float]:
    c = schema.request_counters
    rows = conn.execute(sa.select(c.c.latency_buckets)
                        .where(c.c.model == model, c.c.minute >= start, c.c.minute < end)
                        .order_by(c.c.minute.desc()).limit(_KEY_SAMPLE_ROWS)).scalars()
    bounds = {_parse_bound(str(k)) for doc in rows for k in (doc or {})}
    return {b for b in bounds if b is not None}


def traffic_series(engine: Engine, model: str, start: datetime, end: datetime, step_minutes: int,
                   version: str | None = None, bounds_ms: Sequence[float] = DEFAULT_BOUNDS_MS) -> TrafficSeries:
    """Requests, errors and the latency histogram of ``model`` (one ``version`` or all) per
    ``step_minutes`` bucket for counter minutes in ``[start, end)``. ``bounds_ms`` are read
    besides the bounds found in the latest stored rows."""
    c = schema.request_counters
    with engine.connect() as conn:
        bounds = tuple(sorted(set(float(b) for b in bounds_ms) | _stored_bounds(conn, model, start, end)))
        keys = [bound_key(b) for b in bounds] + [INF_KEY]
        bucket = Bucketing(size=step_minutes).expression(c.c.minute, conn.dialect.name).label("bucket")
        sums: list[sa.ColumnElement[Any]] = [sa.func.sum(c.c.requests), sa.func.sum(c.c.errors), sa.func.sum(c.c.latency_count),
                sa.func.sum(c.c.latency_sum_ms)]
        sums += [sa.func.coalesce(sa.func.sum(c.c.latency_buckets[k].as_float()), 0.0) for k in keys]
        where = [c.c.model == model, c.c.minute >= start, c.c.minute < end]
        if version is not None:
            where.append(c.c.version == version)
        rows = conn.execute(sa.select(bucket, *sums).where(*where).group_by(bucket).order_by(bucket)).all()
    matrix = np.asarray([[float(v or 0) for v in r] for r in rows], dtype=np.float64).reshape(len(rows), 5 + len(keys))
    return TrafficSeries(step_minutes, bounds, matrix[:, 0].astype(np.int64), matrix[:, 1], matrix[:, 2],
                         matrix[:, 3], matrix[:, 4], matrix[:, 5:])


def fleet_traffic(engine: Engine, models: Sequence[str], start: datetime, end: datetime) -> dict[str, tuple[int, int]]:
    """``model -> (requests, errors)`` over ``[start, end)``, one GROUP BY for the fleet."""
    if not models:
        return {}
    c = schema.request_counters
    query = (sa.select(c.c.model, sa.func.sum(c.c.requests), sa.func.sum(c.c.errors))
             .where(c.c.model.in_(list(models)), c.c.minute >= start, c.c.minute < end).group_by(c.c.model))
    with engine.connect() as conn:
        return {m: (int(r or 0), int(e or 0)) for m, r, e in conn.execute(query)}


# A deploy on the charts and in the tables: version, at, note, source, artifact_sha256.
Deploy = DeployMark


def _deployed_at() -> sa.ColumnElement[datetime]:
    mv = schema.model_versions
    return sa.func.coalesce(mv.c.deployed_at, mv.c.first_seen)


def deploys(engine: Engine, model: str, start: datetime, end: datetime, limit: int = 50) -> list[Deploy]:
    """Deploys of ``model`` in ``[start, end)``, newest first: every ``deploys`` row (recorded
    or inferred from a version's first traffic), and versions without any at their
    model_versions time (store.deploy_reads)."""
    with engine.connect() as conn:
        return deploy_marks(conn, model, start, end, limit)


def deploy_counts(engine: Engine, models: Sequence[str], start: datetime, end: datetime) -> dict[str, int]:
    """Deploys per model in ``[start, end)``."""
    with engine.connect() as conn:
        return deploy_mark_counts(conn, models, start, end)


def model_versions(engine: Engine, model: str) -> list[str]:
    """Versions recorded for ``model``, oldest first."""
    mv = schema.model_versions
    with engine.connect() as conn:
        return list(conn.execute(sa.select(mv.c.version).where(mv.c.model == model)
                                 .order_by(_deployed_at(), mv.c.version)).scalars())


def current_version(engine: Engine, model: str, end: datetime, lookback: timedelta = timedelta(days=1)) -> str | None:
    """The version that served ``model``'s latest counted minute before ``end`` (within
    ``lookback``), else the latest deployed version, else None."""
    c = schema.request_counters
    with engine.connect() as conn:
        found = conn.execute(sa.select(c.c.version)
                             .where(c.c.model == model, c.c.minute >= end - lookback, c.c.minute < end)
                             .order_by(c.c.minute.desc(), c.c.version.desc()).limit(1)).scalar()
        if found is not None:
            return str(found)
        mv = schema.model_versions
        return conn.execute(sa.select(mv.c.version).where(mv.c.model == model)
                            .order_by(_deployed_at().desc()).limit(1)).scalar()
