"""The TimescaleDB path, against a real TimescaleDB build (PGlite + TimescaleDB 2.23 over the wire).

PGlite runs one connection at a time and has no COPY FROM STDIN, so writes take the INSERT path;
background jobs do not run by themselves there, so policies are run with CALL run_job.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from store import bootstrap, pgcopy, schema, timescale
from store.records import CounterRow, LabelRow, PredictionRow, WriteResult
from store.writes import write_counters, write_labels, write_predictions

pytestmark = pytest.mark.timescale

NOW = datetime.now(timezone.utc).replace(microsecond=0)


def prediction(i: int, age: timedelta = timedelta(0)) -> PredictionRow:
    return PredictionRow(time=NOW - age + timedelta(seconds=i), model="churn", version="v1",
                         prediction_id=f"p-{i}", features={"amount": 10.0 * i, "plan": "pro"},
                         prediction="1", score=0.5, slices={"country": "DE"})


def count(engine: Engine, table: sa.Table) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


@pytest.fixture
def ts_engine(timescale_engine: Engine) -> Engine:
    bootstrap.create_schema(timescale_engine)
    return timescale_engine


def test_create_schema_makes_the_time_series_tables_hypertables(ts_engine: Engine) -> None:
    with ts_engine.connect() as conn:
        assert timescale.is_installed(conn)
        assert timescale.hypertables(conn) == {"predictions", "labels", "request_counters"}
        dimensions = dict(conn.exec_driver_sql(
            "SELECT hypertable_name, column_name FROM timescaledb_information.dimensions").all())
    assert dimensions == {"predictions": "time", "labels": "time", "request_counters": "minute"}


def test_retention_and_compression_policies_exist(ts_engine: Engine) -> None:
    defaults = timescale.TimescalePolicies()
    with ts_engine.connect() as conn:
        for table in schema.TIME_SERIES_TABLES:
            jobs = timescale.policy_jobs(conn, table)
            assert set(jobs) == {"retention", "compression"}, table
            assert timescale._interval_equals(conn, jobs["retention"]["config"]["drop_after"],
                                              defaults.retention[table])
            assert timescale._interval_equals(conn, jobs["compression"]["config"]["compress_after"],
                                              defaults.compress_after)
        segment_by = conn.exec_driver_sql(
            "SELECT hypertable_name, attname FROM timescaledb_information.compression_settings"
            " WHERE segmentby_column_index = 1").all()
    assert sorted(segment_by) == [("labels", "model"), ("predictions", "model"), ("request_counters", "model")]


def test_setup_is_idempotent_and_follows_changed_intervals(ts_engine: Engine) -> None:
    bootstrap.create_schema(ts_engine)  # again: nothing changes, nothing fails
    policies = timescale.TimescalePolicies(
        retention={"predictions": timedelta(days=30), "labels": None, "request_counters": timedelta(days=400)},
        compress_after=timedelta(days=2))
    bootstrap.upgrade(ts_engine, policies=policies)
    with ts_engine.connect() as conn:
        predictions = timescale.policy_jobs(conn, "predictions")
        labels = timescale.policy_jobs(conn, "labels")
        assert timescale._interval_equals(conn, predictions["retention"]["config"]["drop_after"], timedelta(days=30))
        assert timescale._interval_equals(conn, predictions["compression"]["config"]["compress_after"],
                                          timedelta(days=2))
        jobs = conn.exec_driver_sql("SELECT count(*) FROM timescaledb_information.jobs"
                                    " WHERE proc_name IN ('policy_retention', 'policy_compression')").scalar()
    assert "retention" not in labels
    assert jobs == 5  # 3 compression + 2 retention, no leftovers


def test_writes_take_the_insert_path_and_deduplicate(ts_engine: Engine) -> None:
    with ts_engine.connect() as conn:
        assert not pgcopy.supports_copy(conn)
    batch = [prediction(i) for i in range(20)]
    assert write_predictions(ts_engine, batch) == WriteResult(20, 0)
    assert write_predictions(ts_engine, batch[10:] + [prediction(20)]) == WriteResult(1, 10)
    label = LabelRow(time=NOW, model="churn", prediction_id="p-1", label="0")
    assert write_labels(ts_engine, [label, label]) == WriteResult(1, 1)
    counter = CounterRow(minute=NOW.replace(second=0), model="churn", version="v1", batch_id="b1",
                         requests=10, errors=1, latency_count=10, latency_sum_ms=50.0,
                         latency_buckets={"5": 9, "+Inf": 1})
    assert write_counters(ts_engine, [counter]) == WriteResult(1, 0)
    assert write_counters(ts_engine, [counter]) == WriteResult(0, 1)
    with ts_engine.connect() as conn:
        row = conn.execute(sa.select(schema.predictions).where(
            schema.predictions.c.prediction_id == "p-3")).mappings().one()
    assert row["features"] == {"amount": 30.0, "plan": "pro"}
    assert row["slices"] == {"country": "DE"}
    assert row["time"] == NOW + timedelta(seconds=3)


def test_time_bucket_counts_per_hour(ts_engine: Engine) -> None:
    rows = [PredictionRow(time=datetime(2024, 5, 1, h, m, tzinfo=timezone.utc), model="churn", version="v1",
                          prediction_id=f"{h}-{m}", features={}) for h in (10, 11) for m in range(0, 60, 20)]
    write_predictions(ts_engine, rows + [prediction(99)])
    with ts_engine.connect() as conn:
        buckets = conn.exec_driver_sql(
            "SELECT time_bucket(INTERVAL '1 hour', time) AS hour, count(*) FROM predictions"
            " WHERE time < '2024-06-01' GROUP BY 1 ORDER BY 1").all()
    assert [(b.hour.astimezone(timezone.utc).hour, b.count) for b in buckets] == [(10, 3), (11, 3)]


def test_retention_job_drops_old_chunks(ts_engine: Engine) -> None:
    write_predictions(ts_engine, [prediction(i, age=timedelta(days=200)) for i in range(5)]
                      + [prediction(i) for i in range(5, 8)])
    with ts_engine.connect() as conn:
        chunks_before = conn.exec_driver_sql("SELECT count(*) FROM show_chunks('predictions')").scalar()
        job = timescale.policy_jobs(conn, "predictions")["retention"]["job_id"]
    timescale.run_job(ts_engine, job)
    with ts_engine.connect() as conn:
        chunks_after = conn.exec_driver_sql("SELECT count(*) FROM show_chunks('predictions')").scalar()
        ids = conn.execute(sa.select(schema.predictions.c.prediction_id)).scalars().all()
    assert chunks_before == 2 and chunks_after == 1
    assert sorted(ids) == ["p-5", "p-6", "p-7"]


def test_compressed_chunks_still_read_and_deduplicate(ts_engine: Engine) -> None:
    old = [prediction(i, age=timedelta(days=30)) for i in range(5)]
    write_predictions(ts_engine, old)
    with ts_engine.connect() as conn:
        job = timescale.policy_jobs(conn, "predictions")["compression"]["job_id"]
    timescale.run_job(ts_engine, job)
    with ts_engine.connect() as conn:
        compressed = conn.exec_driver_sql(
            "SELECT count(*) FROM timescaledb_information.chunks"
            " WHERE hypertable_name = 'predictions' AND is_compressed").scalar()
    assert compressed == 1
    # A late retry of an old batch lands on a compressed chunk: still exactly once.
    assert write_predictions(ts_engine, old + [prediction(9, age=timedelta(days=30))]) == WriteResult(1, 5)
    assert count(ts_engine, schema.predictions) == 6


def test_continuous_aggregate_over_request_counters(ts_engine: Engine) -> None:
    hour = datetime(2024, 5, 1, 10, tzinfo=timezone.utc)
    counters = [CounterRow(minute=hour + timedelta(minutes=m), model="churn", version="v1", batch_id=f"b{m}",
                           requests=10, errors=m % 2, latency_count=10, latency_sum_ms=20.0,
                           latency_buckets={"+Inf": 10}) for m in range(0, 120, 15)]
    write_counters(ts_engine, counters)
    with ts_engine.connect() as conn:
        timescale.create_counter_rollup(conn)
        timescale.create_counter_rollup(conn)  # idempotent
        conn.commit()
    timescale.refresh_rollup(ts_engine)
    with ts_engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT bucket, requests, errors FROM request_counters_hourly ORDER BY bucket").all()
        policies = conn.exec_driver_sql(
            "SELECT count(*) FROM timescaledb_information.jobs"
            " WHERE proc_name = 'policy_refresh_continuous_aggregate'").scalar()
    assert [(r.bucket, r.requests, r.errors) for r in rows] == [
        (hour, 40, 2), (hour + timedelta(hours=1), 40, 2)]
    assert policies == 1

