"""Every line of TimescaleDB-specific SQL in modelwatch, detected at run time.

When the ``timescaledb`` extension is installed or available, the time-series tables
(predictions, labels, request_counters) become hypertables with retention and compression
policies. On plain PostgreSQL and on SQLite every function here is a no-op that says so.
Everything is idempotent: running it again changes only what differs from the arguments.

Needs TimescaleDB >= 2.13 (``by_range`` dimension builder).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from store.schema import TIME_SERIES_TABLES

log = logging.getLogger(__name__)

EXTENSION = "timescaledb"


@dataclass(frozen=True)
class TimescalePolicies:
    """Chunking, retention and compression per time-series table; ``None`` turns a policy off."""

    chunk_interval: timedelta = timedelta(days=1)
    retention: dict[str, timedelta | None] = field(default_factory=lambda: {
        "predictions": timedelta(days=90),
        "labels": timedelta(days=90),
        # Counters are small and SLO reports look back a year.
        "request_counters": timedelta(days=400),
    })
    compress_after: timedelta | None = timedelta(days=7)
    # Each model's rows compress together; the dashboard and jobs always filter by model.
    segment_by: str = "model"


def is_installed(conn: Connection) -> bool:
    if conn.dialect.name != "postgresql":
        return False
    return conn.execute(
        sa.text("SELECT 1 FROM pg_extension WHERE extname = :name"), {"name": EXTENSION}
    ).first() is not None


def is_available(conn: Connection) -> bool:
    """True when the server has the extension, installed or not (pg_available_extensions)."""
    if conn.dialect.name != "postgresql":
        return False
    return conn.execute(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = :name"), {"name": EXTENSION}
    ).first() is not None


def ensure_extension(conn: Connection) -> bool:
    """Install the extension when the server has it; returns whether it is installed now.

    A server that ships it but cannot load it (not in shared_preload_libraries) is reported in
    the log and treated as plain PostgreSQL: modelwatch works without it.
    """
    if is_installed(conn):
        return True
    if not is_available(conn):
        return False
    savepoint = conn.begin_nested()
    try:
        conn.exec_driver_sql(f"CREATE EXTENSION IF NOT EXISTS {EXTENSION}")
    except sa.exc.DBAPIError as exc:
        savepoint.rollback()
        log.warning("timescaledb is available but could not be installed: %s", exc.orig)
        return False
    savepoint.commit()
    return True


def setup(conn: Connection, policies: TimescalePolicies | None = None) -> bool:
    """Make the time-series tables hypertables with their policies, when TimescaleDB is there.

    Returns True when TimescaleDB is in use, False (having done nothing) otherwise. The caller
    owns the transaction.
    """
    if not ensure_extension(conn):
        return False
    policies = policies or TimescalePolicies()
    for table, time_column in TIME_SERIES_TABLES.items():
        make_hypertable(conn, table, time_column, policies.chunk_interval)
        set_retention(conn, table, policies.retention.get(table))
        set_compression(conn, table, time_column, policies.segment_by, policies.compress_after)
    return True


def make_hypertable(conn: Connection, table: str, time_column: str, chunk_interval: timedelta) -> None:
    # migrate_data: an existing plain table (an upgrade from plain PostgreSQL) keeps its rows.
    # No default time index: every query filters by model, and ix_<table>_model_time covers it.
    conn.execute(
        sa.text(
            "SELECT create_hypertable(CAST(:table AS regclass), by_range(:column, CAST(:chunk AS interval)),"
            " migrate_data => true, if_not_exists => true, create_default_indexes => false)"
        ),
        {"table": table, "column": time_column, "chunk": chunk_interval},
    )


def hypertables(conn: Connection) -> set[str]:
    if not is_installed(conn):
        return set()
    rows = conn.exec_driver_sql(
        "SELECT hypertable_name FROM timescaledb_information.hypertables"
        " WHERE hypertable_schema = current_schema()"
    )
    return {row[0] for row in rows}


def policy_jobs(conn: Connection, table: str) -> dict[str, dict[str, Any]]:
    """The table's background jobs by kind: {"retention": {"job_id":..., "config":...}, ...}."""
    rows = conn.execute(
        sa.text(
            "SELECT job_id, proc_name, config FROM timescaledb_information.jobs"
            " WHERE hypertable_schema = current_schema() AND hypertable_name = :table"
        ),
        {"table": table},
    )
    kinds = {"policy_retention": "retention", "policy_compression": "compression"}
    return {
        kinds[row.proc_name]: {"job_id": row.job_id, "config": row.config}
        for row in rows if row.proc_name in kinds
    }


def set_retention(conn: Connection, table: str, drop_after: timedelta | None) -> None:
    """Chunks entirely older than ``drop_after`` are dropped by a background job."""
    current = policy_jobs(conn, table).get("retention")
    if current is not None:
        if drop_after is not None and _interval_equals(conn, current["config"].get("drop_after"), drop_after):
            return
        conn.execute(sa.text("SELECT remove_retention_policy(CAST(:table AS regclass))"), {"table": table})
    if drop_after is not None:
        conn.execute(
            sa.text("SELECT add_retention_policy(CAST(:table AS regclass), CAST(:drop_after AS interval))"),
            {"table": table, "drop_after": drop_after},
        )


def set_compression(conn: Connection, table: str, time_column: str, segment_by: str,
                    compress_after: timedelta | None) -> None:
    """Compress chunks older than ``compress_after``, segmented by model."""
    enabled = conn.execute(
        sa.text(
            "SELECT compression_enabled FROM timescaledb_information.hypertables"
            " WHERE hypertable_schema = current_schema() AND hypertable_name = :table"
        ),
        {"table": table},
    ).scalar()
    if compress_after is not None and not enabled:
        # Identifiers come from schema.py, never from input.
        conn.exec_driver_sql(
            f'ALTER TABLE "{table}" SET (timescaledb.compress,'
            f" timescaledb.compress_segmentby = '{segment_by}',"
            f" timescaledb.compress_orderby = '{time_column} DESC')"
        )
    current = policy_jobs(conn, table).get("compression")
    if current is not None:
        if compress_after is not None and _interval_equals(conn, current["config"].get("compress_after"), compress_after):
            return
        conn.execute(sa.text("SELECT remove_compression_policy(CAST(:table AS regclass))"), {"table": table})
    if compress_after is not None:
        conn.execute(
            sa.text("SELECT add_compression_policy(CAST(:table AS regclass), CAST(:after AS interval))"),
            {"table": table, "after": compress_after},
        )


def _interval_equals(conn: Connection, configured: Any, wanted: timedelta) -> bool:
    if configured is None:
        return False
    return bool(conn.execute(
        sa.text("SELECT CAST(:configured AS interval) = CAST(:wanted AS interval)"),
        {"configured": str(configured), "wanted": wanted},
    ).scalar())


def _interval_literal(value: timedelta) -> str:
    """DDL takes no bind parameters; a whole number of microseconds renders exactly."""
    return f"INTERVAL '{int(value / timedelta(microseconds=1))} microseconds'"


def run_job(engine: Engine, job_id: int) -> None:
    """Run a background job now (tests, and servers whose scheduler is off).

    Jobs commit as they go (compression does per chunk), so this runs outside any transaction.
    """
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("CALL run_job(:job_id)"), {"job_id": job_id})


def refresh_rollup(engine: Engine, name: str = "request_counters_hourly",
                   start: datetime | None = None, end: datetime | None = None) -> None:
    """Materialize a continuous aggregate over [start, end) now; None means unbounded."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(
            sa.text("CALL refresh_continuous_aggregate(CAST(:name AS regclass), CAST(:start AS timestamptz),"
                    " CAST(:end AS timestamptz))"),
            {"name": name, "start": start, "end": end},
        )


def create_counter_rollup(conn: Connection, name: str = "request_counters_hourly",
                          bucket: timedelta = timedelta(hours=1),
                          refresh_lag: timedelta = timedelta(minutes=5)) -> None:
    """A continuous aggregate summing request counters per bucket, model and version.

    A policy refreshes the last 3 days, so late counter deltas are folded in. Created WITH NO
    DATA, so it may run inside a transaction; refresh_rollup fills older history on demand.
    """
    conn.execute(
        sa.text(
            f'CREATE MATERIALIZED VIEW IF NOT EXISTS "{name}" WITH (timescaledb.continuous) AS'
            f" SELECT time_bucket({_interval_literal(bucket)}, minute) AS bucket, model, version,"
            " sum(requests) AS requests, sum(errors) AS errors,"
            " sum(latency_count) AS latency_count, sum(latency_sum_ms) AS latency_sum_ms"
            " FROM request_counters GROUP BY 1, 2, 3 WITH NO DATA"
        )
    )
    conn.execute(
        sa.text(
            "SELECT add_continuous_aggregate_policy(CAST(:name AS regclass),"
            " start_offset => INTERVAL '3 days', end_offset => CAST(:lag AS interval),"
            " schedule_interval => CAST(:bucket AS interval), if_not_exists => true)"
        ),
        {"name": name, "lag": refresh_lag, "bucket": bucket},
    )
