"""Retention and deletion on TimescaleDB (PGlite + TimescaleDB): hypertables are left to their
retention policies (kept in step with the configured limits), other tables get DELETEs, and a
deletion request reaches rows in compressed chunks."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from store import bootstrap, schema, timescale
from store.audit import read_audit
from store.deletion import Entity, delete_predictions
from store.records import PredictionRow
from store.retention import apply_retention, retention_policies
from store.writes import write_predictions

pytestmark = pytest.mark.timescale

NOW = datetime.now(timezone.utc).replace(microsecond=0)


def _prediction(i: int, age: timedelta) -> PredictionRow:
    return PredictionRow(time=NOW - age + timedelta(seconds=i), model="churn", version="v1",
                         prediction_id=f"p-{i}", features={"amount": 10.0 * i, "email": f"u{i % 2}@example.com"})


@pytest.fixture
def ts_engine(timescale_engine: Engine) -> Engine:
    bootstrap.create_schema(timescale_engine)
    return timescale_engine


def test_retention_sets_hypertable_policies_and_deletes_elsewhere(ts_engine: Engine) -> None:
    write_predictions(ts_engine, [_prediction(i, timedelta(days=45)) for i in range(4)]
                      + [_prediction(i, timedelta(0)) for i in range(4, 6)])
    with ts_engine.begin() as conn:
        conn.execute(schema.audit_log.insert().values(time=NOW - timedelta(days=10), actor="x", action="old"))
    report = apply_retention(ts_engine, retention_policies({"predictions": 30, "audit_log": 5}), NOW)

    # The hypertable is not DELETEd from: its policy now says 30 days, and its job drops the chunk.
    assert "predictions" not in report.deleted and report.timescale_policies["predictions"] == timedelta(days=30)
    assert report.deleted["audit_log"] == 1
    with ts_engine.connect() as conn:
        job = timescale.policy_jobs(conn, "predictions")["retention"]
        assert timescale._interval_equals(conn, job["config"]["drop_after"], timedelta(days=30))
    timescale.run_job(ts_engine, job["job_id"])
    with ts_engine.connect() as conn:
        ids = sorted(conn.execute(sa.select(schema.predictions.c.prediction_id)).scalars())
    assert ids == ["p-4", "p-5"]


def test_deletion_reaches_compressed_chunks(ts_engine: Engine) -> None:
    write_predictions(ts_engine, [_prediction(i, timedelta(days=20)) for i in range(6)])
    with ts_engine.connect() as conn:
        job = timescale.policy_jobs(conn, "predictions")["compression"]["job_id"]
    timescale.run_job(ts_engine, job)
    report = delete_predictions(ts_engine, "churn", actor="dpo", entity=Entity("email", ("u1@example.com",)))
    assert report.rows["predictions"] == 3
    with ts_engine.connect() as conn:
        left = sorted(conn.execute(sa.select(schema.predictions.c.prediction_id)).scalars())
    assert left == ["p-0", "p-2", "p-4"]
    assert read_audit(ts_engine, "deletion.request")[0].details["matched_ids"] == 3


def test_create_schema_takes_the_configured_retention(timescale_engine: Engine) -> None:
    from store.retention import timescale_policies

    bootstrap.create_schema(timescale_engine, timescale_policies(retention_policies({"labels": 45, "request_counters": 0})))
    with timescale_engine.connect() as conn:
        labels = timescale.policy_jobs(conn, "labels")
        counters = timescale.policy_jobs(conn, "request_counters")
        assert timescale._interval_equals(conn, labels["retention"]["config"]["drop_after"], timedelta(days=45))
    assert "retention" not in counters  # 0: kept forever
