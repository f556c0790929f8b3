"""Retention: rows older than each table's limit are deleted, daily, by the scheduler.

On TimescaleDB the hypertables (predictions, labels, request_counters) are left to its own
retention policies, which drop whole chunks (store/timescale.py); ``apply_retention`` only keeps
those policies in step with the configured limits there. Every other table, and every table on
plain PostgreSQL and SQLite, is trimmed with DELETEs, one day of rows per transaction, so a first
run over a year of backlog never holds one huge lock or transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from store import audit, schema, timescale
from store import schema_alerts as alerts
from store import schema_scheduler as scheduler
from store import schema_shadow as shadow

__all__ = ["DEFAULT_RETENTION", "RetentionReport", "apply_retention", "retention_policies", "timescale_policies"]

Policies = Mapping[str, "timedelta | None"]

# None keeps rows forever. Counters and SLO history look back a year (SLO reports); raw samples
# and replay outputs are the personal-data-bearing tables and go sooner. The audit log is kept.
DEFAULT_RETENTION: dict[str, timedelta | None] = {
    "predictions": timedelta(days=90),
    "labels": timedelta(days=90),
    "shadow_outputs": timedelta(days=90),
    "request_counters": timedelta(days=400),
    "analysis_results": timedelta(days=400),
    "analysis_windows": timedelta(days=400),
    "slo_status_history": timedelta(days=400),
    "sli_hourly": timedelta(days=400),
    "notifications": timedelta(days=180),  # sent or failed only; delivery_attempts go with them
    "audit_log": None,
}

_STEP = timedelta(days=1)


@dataclass(frozen=True)
class _Target:
    table: sa.Table
    time_column: str
    finished: sa.ColumnElement | None = None  # only rows matching this may go (outbox: not pending)


def _targets() -> dict[str, _Target]:
    n = alerts.notifications
    return {
        "predictions": _Target(schema.predictions, "time"),
        "labels": _Target(schema.labels, "time"),
        "request_counters": _Target(schema.request_counters, "minute"),
        "shadow_outputs": _Target(shadow.shadow_outputs, "time"),
        "analysis_results": _Target(schema.analysis_results, "window_end"),
        "analysis_windows": _Target(scheduler.analysis_windows, "window_end"),
        "slo_status_history": _Target(alerts.slo_status_history, "hour"),
        "sli_hourly": _Target(alerts.sli_hourly, "hour"),
        "notifications": _Target(n, "created_at", n.c.status.in_(("sent", "failed"))),
        "audit_log": _Target(schema.audit_log, "time"),
    }


@dataclass(frozen=True)
class RetentionReport:
    now: datetime
    deleted: dict[str, int]  # table -> rows deleted by this run
    timescale_policies: dict[str, timedelta | None]  # hypertables left to TimescaleDB, with their limit

    @property
    def total(self) -> int:
        return sum(self.deleted.values())


def retention_policies(days: Mapping[str, float] | None = None) -> dict[str, timedelta | None]:
    """DEFAULT_RETENTION with ``days`` overriding it per table (0 or less: keep forever), as
    ``MODELWATCH_RETENTION_DAYS='{"predictions": 30}'`` sets it. Raises ValueError naming an
    unknown table."""
    unknown = sorted(set(days or {}) - set(DEFAULT_RETENTION))
    if unknown:
        raise ValueError(f"retention for unknown table(s) {unknown}; known: {sorted(DEFAULT_RETENTION)}")
    policies = dict(DEFAULT_RETENTION)
    for table, value in (days or {}).items():
        policies[table] = timedelta(days=value) if value > 0 else None
    return policies


def _delete_before(engine: Engine, target: _Target, cutoff: datetime) -> int:
    column = target.table.c[target.time_column]
    scope = [column < cutoff] + ([target.finished] if target.finished is not None else [])
    with engine.connect() as conn:
        oldest = conn.execute(sa.select(sa.func.min(column)).where(*scope)).scalar()
    deleted = 0
    while oldest is not None and oldest < cutoff:
        # One day per transaction: bounded locks and WAL however large the backlog.
        upper = min(oldest + _STEP, cutoff)
        with engine.begin() as conn:
            where = sa.and_(column < upper, *scope[1:])
            if target.table is alerts.notifications:
                ids = sa.select(alerts.notifications.c.id).where(where)
                conn.execute(alerts.delivery_attempts.delete().where(alerts.delivery_attempts.c.notification.in_(ids)))
            deleted += conn.execute(target.table.delete().where(where)).rowcount
        oldest = upper
    return deleted


def apply_retention(engine: Engine, policies: Policies, now: datetime, actor: str = "scheduler") -> RetentionReport:
    """Delete rows older than ``now - policies[table]`` from every table with a limit (hypertables
    on TimescaleDB: set their retention policy instead); audited when anything was deleted.
    Returns the rows deleted per table. Raises ValueError for an unknown table name."""
    unknown = sorted(set(policies) - set(DEFAULT_RETENTION))
    if unknown:
        raise ValueError(f"retention for unknown table(s) {unknown}; known: {sorted(DEFAULT_RETENTION)}")
    with engine.begin() as conn:
        hypertables = timescale.hypertables(conn)
        for table in hypertables & set(policies):
            timescale.set_retention(conn, table, policies[table])
    targets = _targets()
    deleted: dict[str, int] = {}
    for table, keep in policies.items():
        if keep is None or table in hypertables:
            continue
        deleted[table] = _delete_before(engine, targets[table], now - keep)
    if any(deleted.values()):
        with engine.begin() as conn:
            audit.record(conn, actor, "retention.apply", None,
                         {"deleted": {k: v for k, v in deleted.items() if v},
                          "limits_days": {k: v.total_seconds() / 86400 for k, v in policies.items() if v is not None}},
                         now)
    return RetentionReport(now, deleted, {t: policies[t] for t in hypertables & set(policies)})


def timescale_policies(policies: Policies) -> timescale.TimescalePolicies:
    """TimescaleDB chunk policies whose retention follows ``policies`` for the hypertables, so
    ``create_schema`` at a service start keeps the configured limits instead of the defaults."""
    return timescale.TimescalePolicies(retention={t: policies.get(t) for t in schema.TIME_SERIES_TABLES})
