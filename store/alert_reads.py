"""Reads around alerts: analysis findings that alert, context for pages, SLO status for /metrics."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from store import schema
from store import schema_alerts as t
from store.deploy_reads import deploy_marks
from store.upsert import upsert

__all__ = [
    "ALERTING_STATUSES",
    "DeployRow",
    "Finding",
    "latest_drift_scores",
    "latest_findings",
    "latest_slo_status",
    "recent_deploys",
    "slice_metrics",
    "write_slo_status",
]

# analysis_results.status values that mean "something is wrong" (drift decisions, quality
# violations, performance below its threshold).
ALERTING_STATUSES = ("drift", "violation", "degraded")
# Performance statuses that decide a metric against its threshold (analysis.performance.thresholds).
PERFORMANCE_DECISIONS = ("ok", "degraded")


@dataclass(frozen=True)
class Finding:
    """One analysis_results row of a latest window."""

    model: str
    version: str
    kind: str
    metric: str
    feature: str
    slice_key: str
    slice_value: str
    value: float | None
    threshold: float | None
    status: str
    n: int
    window_start: datetime
    window_end: datetime


@dataclass(frozen=True)
class DeployRow:
    version: str
    deployed_at: datetime
    note: str | None
    source: str | None = None  # api | cli | sdk; None for a version known only from model_versions
    artifact_sha256: str | None = None


def _latest_window_rows(models: Sequence[str], kinds: Sequence[str], since: datetime) -> sa.Select:
    r = schema.analysis_results
    latest = (
        sa.select(r.c.model, r.c.kind, sa.func.max(r.c.window_end).label("window_end"))
        .where(r.c.model.in_(list(models)), r.c.kind.in_(list(kinds)), r.c.window_end >= since)
        .group_by(r.c.model, r.c.kind)
        .subquery()
    )
    return sa.select(r).join(latest, (r.c.model == latest.c.model) & (r.c.kind == latest.c.kind) & (r.c.window_end == latest.c.window_end))


def _latest_decided_performance(models: Sequence[str], since: datetime) -> sa.Select:
    """Performance rows of the latest window that decided each metric x slice against its
    threshold (``ok`` or ``degraded``): the newest windows wait for their labels
    (``insufficient``), which must neither resolve nor raise an alert. Metrics without a
    threshold never alert and are left out."""
    r = schema.analysis_results
    identity = (r.c.model, r.c.version, r.c.metric, r.c.feature, r.c.slice_key, r.c.slice_value)
    latest = (
        sa.select(*identity, sa.func.max(r.c.window_end).label("window_end"))
        .where(r.c.model.in_(list(models)), r.c.kind == "performance", r.c.window_end >= since,
               r.c.threshold.is_not(None), r.c.status.in_(PERFORMANCE_DECISIONS))
        .group_by(*identity)
        .subquery()
    )
    on = sa.and_(r.c.kind == "performance", r.c.window_end == latest.c.window_end,
                 *(column == latest.c[column.name] for column in identity))
    return sa.select(r).join(latest, on)


def latest_findings(conn: Connection, models: Sequence[str], since: datetime, kinds: Sequence[str] = ("drift", "quality", "performance")) -> list[Finding]:
    """Alerting rows of each model's latest analysis window per kind (ending at or after
    ``since``); for performance, of the latest window that decided each metric and slice."""
    if not models:
        return []
    r = schema.analysis_results
    queries = []
    windowed = [k for k in kinds if k != "performance"]
    if windowed:
        queries.append(_latest_window_rows(models, windowed, since).where(r.c.status.in_(ALERTING_STATUSES)))
    if "performance" in kinds:
        queries.append(_latest_decided_performance(models, since).where(r.c.status.in_(ALERTING_STATUSES)))
    return [
        Finding(row.model, row.version, row.kind, row.metric, row.feature, row.slice_key, row.slice_value, row.value,
                row.threshold, row.status, int(row.n), row.window_start, row.window_end)
        for query in queries for row in conn.execute(query)
    ]


def slice_metrics(conn: Connection, model: str, metric: str, since: datetime) -> list[tuple[str, float, int]]:
    """``(slice "key=value", value, n)`` of ``metric`` per slice in the latest performance window."""
    r = schema.analysis_results
    query = _latest_window_rows([model], ["performance"], since).where(r.c.metric == metric, r.c.slice_key != "", r.c.value.is_not(None))
    return [(f"{row.slice_key}={row.slice_value}", float(row.value), int(row.n)) for row in conn.execute(query)]


def recent_deploys(conn: Connection, model: str, since: datetime, limit: int = 3) -> list[DeployRow]:
    """Deploys since ``since``, newest first: the ``deploys`` rows, and versions without any
    (stored before deploys were recorded) at their model_versions time."""
    return [DeployRow(m.version, m.at, m.note, m.source, m.artifact_sha256)
            for m in deploy_marks(conn, model, since, limit=limit)]


def write_slo_status(conn: Connection, rows: Sequence[dict], history: Sequence[dict]) -> None:
    """Replace each SLO's latest status and its hour's burndown point; drop the latest status of
    SLOs no longer declared (their history stays, for the burndown)."""
    s = t.slo_status
    current = {(r["model"], r["slo"]) for r in rows}
    for model, slo in conn.execute(sa.select(s.c.model, s.c.slo)).all():
        if (model, slo) not in current:
            conn.execute(s.delete().where(s.c.model == model, s.c.slo == slo))
    upsert(conn, s, rows, ("model", "slo"))
    upsert(conn, t.slo_status_history, history, ("model", "slo", "hour"))


def latest_slo_status(conn: Connection) -> list[sa.Row]:
    """Every SLO's latest evaluation."""
    s = t.slo_status
    return list(conn.execute(sa.select(s).order_by(s.c.model, s.c.slo)))


def latest_drift_scores(conn: Connection, since: datetime) -> list[sa.Row]:
    """Drift rows (model, version, feature, metric, slice, value, status) of each model's latest
    drift window ending at or after ``since``."""
    r = schema.analysis_results
    return list(conn.execute(_latest_window_rows_for_all("drift", since).order_by(r.c.model, r.c.feature, r.c.metric)))


def _latest_window_rows_for_all(kind: str, since: datetime) -> sa.Select:
    r = schema.analysis_results
    latest = (
        sa.select(r.c.model, sa.func.max(r.c.window_end).label("window_end"))
        .where(r.c.kind == kind, r.c.window_end >= since)
        .group_by(r.c.model)
        .subquery()
    )
    return sa.select(r).join(latest, (r.c.model == latest.c.model) & (r.c.window_end == latest.c.window_end)).where(r.c.kind == kind)
