"""SLI counts per time bucket, aggregated in SQL (GROUP BY bucket) on PostgreSQL and SQLite.

Buckets are epoch minutes (int): a bucket expression maps a time column to the first minute of
its bucket: one minute, one hour, or a "ring" between given edges (one sum per window edge, so
a 30-day window costs a handful of rows). Every reader returns ``Buckets``: bucket start
minutes with their total, bad and (quality only) expected counts. Conventions: docs/slo.md.

- availability / latency: ``request_counters`` (exact SDK counters; see ``counter_buckets``)
- quality: sampled predictions joined to their latest label, by PREDICTION minute, weighted
  by the sample weight; ``expected`` counts predictions that could get a label (coverage)
- label_freshness: each label of a stored prediction, by ARRIVAL minute (received_at); late
  when ``received_at - prediction time > max_lag``
- drift_free: each drift analysis window (distinct window_start, window_end) at its end minute;
  bad when any of its rows has status ``drift``
- feature_freshness: sampled predictions that sent a feature time, by PREDICTION minute,
  weighted by the sample weight; bad when ``feature_lag_s > max_lag`` (predictions without a
  feature time are not events)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from config.slo import SloKind, SloSpec
from store import schema

__all__ = ["Buckets", "Bucketing", "CounterBuckets", "bound_key", "counter_buckets", "epoch_minute", "minute_time", "sample_buckets"]


def epoch_minute(value: datetime) -> int:
    """Whole minutes since the epoch (floor) of an aware datetime."""
    return int(value.timestamp() // 60)


def minute_time(minute: int) -> datetime:
    return datetime.fromtimestamp(minute * 60, timezone.utc)


def bound_key(bound: float) -> str:
    """A histogram bound as stored in ``latency_buckets`` (collector.validate.bound_label)."""
    return str(int(bound)) if float(bound).is_integer() else repr(float(bound))


@dataclass(frozen=True)
class Bucketing:
    """How times become buckets: ``size`` minutes (1 or 60), or rings starting at ``edges``
    (ascending epoch minutes; a time before the first edge is not read)."""

    size: int = 1
    edges: tuple[int, ...] = ()

    def expression(self, column: ColumnElement, dialect: str) -> ColumnElement:
        if self.edges and dialect == "postgresql":
            # The time itself against each edge's instant: PostgreSQL evaluates a CASE's
            # conditions one by one, and the epoch-minute arithmetic (numeric) in each of ~10
            # conditions was most of the cost of reading 30 days of counters by ring.
            return sa.case(*((column >= _instant(edge), _int(edge)) for edge in reversed(self.edges)), else_=sa.null())
        minute = _epoch_minute_sql(column, dialect)
        if self.edges:
            return sa.case(*((minute >= _int(edge), _int(edge)) for edge in reversed(self.edges)), else_=sa.null())
        return minute if self.size == 1 else (minute // _int(self.size)) * _int(self.size)


def _int(value: int) -> ColumnElement:
    # Inline, not a bound parameter: GROUP BY must repeat the select's expression exactly, and
    # PostgreSQL sees two server-side parameters as two different expressions.
    return sa.literal_column(str(int(value)), sa.BigInteger)


def _instant(minute: int) -> ColumnElement:
    """Epoch minute ``minute`` as an inline timestamptz literal (inline for GROUP BY, as _int)."""
    return sa.literal_column(f"TIMESTAMPTZ '{minute_time(minute).isoformat()}'")


def _epoch_minute_sql(column: ColumnElement, dialect: str) -> ColumnElement:
    if dialect == "sqlite":
        # Stored as naive UTC text; strftime('%s') is whole epoch seconds, integer division floors.
        return sa.cast(sa.func.strftime(sa.literal_column("'%s'"), column), sa.Integer) // _int(60)
    return sa.cast(sa.func.floor(sa.extract("epoch", column) / _int(60)), sa.BigInteger)


def _epoch_seconds_sql(column: ColumnElement, dialect: str) -> ColumnElement:
    if dialect == "sqlite":
        return (sa.func.julianday(column) - 2440587.5) * 86400.0
    return sa.extract("epoch", column)


@dataclass(frozen=True, eq=False)
class Buckets:
    """Counts per bucket; ``starts`` are epoch minutes in ascending order."""

    starts: np.ndarray
    total: np.ndarray
    bad: np.ndarray
    expected: np.ndarray | None = None

    @classmethod
    def empty(cls, with_expected: bool = False) -> Buckets:
        zero = np.zeros(0)
        return cls(np.zeros(0, dtype=np.int64), zero, zero, zero if with_expected else None)


@dataclass(frozen=True, eq=False)
class CounterBuckets:
    """``request_counters`` sums per bucket for one model: the input of availability and latency."""

    starts: np.ndarray
    requests: np.ndarray
    errors: np.ndarray
    latency_count: np.ndarray
    le: dict[str, np.ndarray]  # bound key -> requests in buckets up to and including that bound

    def sli(self, spec: SloSpec) -> Buckets:
        """Availability: requests / errors. Latency: successful requests timed / those above
        ``threshold_ms`` (errors are not in the histogram: they count against availability)."""
        if spec.kind is SloKind.availability:
            return Buckets(self.starts, self.requests, np.minimum(self.errors, self.requests))
        if spec.kind is SloKind.latency:
            good = self.le.get(bound_key(float(spec.threshold_ms or 0)), np.zeros_like(self.latency_count))
            return Buckets(self.starts, self.latency_count, np.clip(self.latency_count - good, 0.0, None))
        raise ValueError(f"SLO {spec.name!r} of kind {spec.kind.value} is not counted from request counters")


def latency_keys(specs: Sequence[SloSpec]) -> dict[str, tuple[str, ...]]:
    """For each latency threshold's key, the stored bucket keys at or under it."""
    keys: dict[str, tuple[str, ...]] = {}
    for spec in specs:
        if spec.kind is SloKind.latency and spec.threshold_ms is not None:
            keys[bound_key(spec.threshold_ms)] = tuple(bound_key(b) for b in spec.buckets_ms if b <= spec.threshold_ms)
    return keys


def counter_buckets(
    conn: Connection, models: Sequence[str], start: datetime, end: datetime, bucketing: Bucketing, specs: Sequence[SloSpec] = ()
) -> dict[str, CounterBuckets]:
    """Sums of requests, errors, latency_count and the cumulative latency buckets each latency
    SLO in ``specs`` needs, per model and bucket, for counters with ``start <= minute < end``.
    One query for every model: GROUP BY model, bucket."""
    if not models or start >= end:
        return {}
    c = schema.request_counters
    dialect = conn.dialect.name
    bucket = bucketing.expression(c.c.minute, dialect).label("bucket")
    wanted = latency_keys(specs)
    stored = sorted({k for keys in wanted.values() for k in keys})
    columns: list[ColumnElement] = [sa.func.sum(c.c.requests), sa.func.sum(c.c.errors), sa.func.sum(c.c.latency_count)]
    columns += [sa.func.coalesce(sa.func.sum(c.c.latency_buckets[k].as_float()), 0.0) for k in stored]
    query = (
        sa.select(c.c.model, bucket, *columns)
        .where(c.c.model.in_(list(models)), c.c.minute >= start, c.c.minute < end)
        .group_by(c.c.model, bucket)
        .order_by(c.c.model, bucket)
    )
    if dialect == "postgresql":
        # The rows being grouped carry their JSON histogram: with the default 4 MB the sort
        # spills to disk. The planner cannot count the groups of a ring CASE and expects ~10 %
        # of the rows: below ~256 MB it sorts 30 days of wide rows (670 MB spilled, 2.28M rows)
        # instead of hashing the ~5,000 groups there are (14 MB used). LOCAL: this transaction.
        conn.exec_driver_sql("SET LOCAL work_mem = '256MB'")
    grouped: dict[str, list[tuple]] = {}
    for row in conn.execute(query):
        if row[1] is not None:
            grouped.setdefault(row[0], []).append(tuple(row[1:]))
    out: dict[str, CounterBuckets] = {}
    for model, rows in grouped.items():
        matrix = np.asarray([[float(v or 0) for v in r] for r in rows], dtype=np.float64)
        per_key = {k: matrix[:, 4 + i] for i, k in enumerate(stored)}
        le = {threshold: sum((per_key[k] for k in keys), np.zeros(len(rows))) for threshold, keys in wanted.items()}
        out[model] = CounterBuckets(matrix[:, 0].astype(np.int64), matrix[:, 1], matrix[:, 2], matrix[:, 3], le)
    return out


def sample_buckets(conn: Connection, model: str, spec: SloSpec, start: datetime, end: datetime, bucketing: Bucketing) -> Buckets:
    """Quality, label freshness, drift-free or feature freshness counts of one SLO for times in
    ``[start, end)``."""
    if start >= end:
        return Buckets.empty(spec.kind is SloKind.quality)
    if spec.kind is SloKind.quality:
        return _quality(conn, model, spec, start, end, bucketing)
    if spec.kind is SloKind.label_freshness:
        return _label_freshness(conn, model, spec, start, end, bucketing)
    if spec.kind is SloKind.drift_free:
        return _drift_free(conn, model, start, end, bucketing)
    if spec.kind is SloKind.feature_freshness:
        return _feature_freshness(conn, model, spec, start, end, bucketing)
    raise ValueError(f"SLO {spec.name!r} of kind {spec.kind.value} is counted from request counters")


def _arrays(rows: Sequence[Sequence[Any]], with_expected: bool) -> Buckets:
    rows = [r for r in rows if r[0] is not None]
    if not rows:
        return Buckets.empty(with_expected)
    matrix = np.asarray([[float(v or 0) for v in r] for r in rows], dtype=np.float64)
    return Buckets(matrix[:, 0].astype(np.int64), matrix[:, 1], np.minimum(matrix[:, 2], matrix[:, 1]),
                   matrix[:, 3] if with_expected else None)


def _quality(conn: Connection, model: str, spec: SloSpec, start: datetime, end: datetime, bucketing: Bucketing) -> Buckets:
    p, lb = schema.predictions, schema.labels
    # The latest label per prediction (a corrected label is a later row). Labels come after
    # their prediction, so only labels from ``start`` on can belong to these predictions.
    latest = (
        sa.select(lb.c.prediction_id, lb.c.label, lb.c.label_value,
                  sa.func.row_number().over(partition_by=lb.c.prediction_id, order_by=lb.c.time.desc()).label("rn"))
        .where(lb.c.model == model, lb.c.time >= start)
        .subquery()
    )
    if spec.tolerance is None:
        comparable = latest.c.label.is_not(None) & p.c.prediction.is_not(None)
        wrong = comparable & (latest.c.label != p.c.prediction)
    else:
        comparable = latest.c.label_value.is_not(None) & p.c.prediction_value.is_not(None)
        wrong = comparable & (sa.func.abs(latest.c.label_value - p.c.prediction_value) > spec.tolerance)
    bucket = bucketing.expression(p.c.time, conn.dialect.name).label("bucket")
    query = (
        sa.select(
            bucket,
            sa.func.sum(sa.case((comparable, p.c.weight), else_=0.0)),
            sa.func.sum(sa.case((wrong, p.c.weight), else_=0.0)),
            # Predictions that failed have no output to judge; they count against availability.
            sa.func.sum(sa.case((p.c.error.is_(None), p.c.weight), else_=0.0)),
        )
        .select_from(p.outerjoin(latest, (latest.c.prediction_id == p.c.prediction_id) & (latest.c.rn == 1)))
        .where(p.c.model == model, p.c.time >= start, p.c.time < end)
        .group_by(bucket)
        .order_by(bucket)
    )
    return _arrays(conn.execute(query).all(), with_expected=True)


def _label_freshness(conn: Connection, model: str, spec: SloSpec, start: datetime, end: datetime, bucketing: Bucketing) -> Buckets:
    p, lb = schema.predictions, schema.labels
    dialect = conn.dialect.name
    lag = _epoch_seconds_sql(lb.c.received_at, dialect) - _epoch_seconds_sql(p.c.time, dialect)
    max_lag = spec.max_lag.total_seconds() if spec.max_lag is not None else 0.0
    bucket = bucketing.expression(lb.c.received_at, dialect).label("bucket")
    query = (
        sa.select(bucket, sa.func.sum(p.c.weight), sa.func.sum(sa.case((lag > max_lag, p.c.weight), else_=0.0)))
        .select_from(lb.join(p, (p.c.model == lb.c.model) & (p.c.prediction_id == lb.c.prediction_id)))
        .where(lb.c.model == model, lb.c.received_at >= start, lb.c.received_at < end)
        .group_by(bucket)
        .order_by(bucket)
    )
    return _arrays([(*r, 0.0) for r in conn.execute(query)], with_expected=False)


def _drift_free(conn: Connection, model: str, start: datetime, end: datetime, bucketing: Bucketing) -> Buckets:
    r = schema.analysis_results
    windows = (
        sa.select(r.c.window_end, sa.func.max(sa.case((r.c.status == "drift", 1), else_=0)).label("drifted"))
        .where(r.c.model == model, r.c.kind == "drift", r.c.window_end >= start, r.c.window_end < end)
        .group_by(r.c.window_start, r.c.window_end)
        .subquery()
    )
    bucket = bucketing.expression(windows.c.window_end, conn.dialect.name).label("bucket")
    query = sa.select(bucket, sa.func.count(), sa.func.sum(windows.c.drifted)).group_by(bucket).order_by(bucket)
    return _arrays([(*r, 0.0) for r in conn.execute(query)], with_expected=False)


def _feature_freshness(conn: Connection, model: str, spec: SloSpec, start: datetime, end: datetime,
                       bucketing: Bucketing) -> Buckets:
    p = schema.predictions
    max_lag = spec.max_lag.total_seconds() if spec.max_lag is not None else 0.0
    bucket = bucketing.expression(p.c.time, conn.dialect.name).label("bucket")
    query = (
        sa.select(bucket, sa.func.sum(p.c.weight),
                  sa.func.sum(sa.case((p.c.feature_lag_s > max_lag, p.c.weight), else_=0.0)))
        .where(p.c.model == model, p.c.time >= start, p.c.time < end, p.c.feature_lag_s.is_not(None))
        .group_by(bucket)
        .order_by(bucket)
    )
    return _arrays([(*r, 0.0) for r in conn.execute(query)], with_expected=False)
