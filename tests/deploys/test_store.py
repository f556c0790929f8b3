"""Deploys in the store on SQLite and PostgreSQL: deploys inferred from a version's first traffic
(once, even with collectors racing), deploy marks for pages and charts (deploy rows, and versions
known only from model_versions), and the per-version traffic the version alert judges."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from config.loader import default_monitors_path, load_monitors
from store import schema, schema_deploys
from store.alert_reads import recent_deploys
from store.catalog import sync_models
from store.dashboard_reads import deploy_counts, deploys
from store.deploy_reads import version_traffic
from store.deploys import record_deploy
from store.records import CounterRow
from store.writes import note_versions, write_counters
from tests.collector.conftest import FRAUD, Collector
from tests.deploys.conftest import SHA

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
MINUTE = timedelta(minutes=1)


def with_catalog(engine: Engine) -> Engine:
    sync_models(engine, load_monitors(default_monitors_path()))
    return engine


def deploy_rows(engine: Engine) -> list[sa.Row]:
    d = schema_deploys.deploys
    with engine.connect() as conn:
        return list(conn.execute(sa.select(d.c.version, d.c.time, d.c.source, d.c.actor).order_by(d.c.time, d.c.version)))


def counters(engine: Engine, version: str, minute: datetime, requests: int, batch: str = "b") -> None:
    write_counters(engine, [CounterRow(minute=minute, model=FRAUD, version=version, batch_id=batch, requests=requests,
                                       errors=0, latency_count=requests, latency_sum_ms=1.0 * requests,
                                       latency_buckets={"+Inf": requests}, dropped=None)])


def test_first_traffic_of_a_version_infers_one_deploy(engine: Engine) -> None:
    with_catalog(engine)
    assert note_versions(engine, FRAUD, ["v1", "v2", "v1"], T0) == ["v1", "v2"]
    assert note_versions(engine, FRAUD, ["v2", "v3"], T0 + MINUTE) == ["v3"]
    assert note_versions(engine, FRAUD, ["v1", "v3"], T0 + 2 * MINUTE) == []
    assert [tuple(r) for r in deploy_rows(engine)] == [
        ("v1", T0, "sdk", "sdk"), ("v2", T0, "sdk", "sdk"), ("v3", T0 + MINUTE, "sdk", "sdk")]


def test_a_recorded_deploy_is_not_inferred_again_when_traffic_arrives(engine: Engine) -> None:
    with_catalog(engine)
    record_deploy(engine, FRAUD, "2.5.0", source="api", actor="token:ci", time=T0, artifact_sha256=SHA)
    assert note_versions(engine, FRAUD, ["2.5.0"], T0 + MINUTE) == []
    assert [r.source for r in deploy_rows(engine)] == ["api"]


def test_collectors_racing_on_a_new_version_infer_it_once(engine: Engine) -> None:
    with_catalog(engine)
    threads, start = 6, threading.Barrier(6)
    results: list[list[str]] = []

    def note(i: int) -> None:
        start.wait()
        results.append(note_versions(engine, FRAUD, ["v7", "v8"], T0 + i * timedelta(seconds=1)))

    workers = [threading.Thread(target=note, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(30)
    assert len(results) == threads
    assert sorted(v for r in results for v in r) == ["v7", "v8"]  # each version new to exactly one caller
    assert sorted(r.version for r in deploy_rows(engine)) == ["v7", "v8"]


def test_the_collector_infers_a_deploy_from_counters(any_collector: Collector) -> None:
    body = {"model": FRAUD, "version": "v9", "batch_id": "c-1", "bounds_ms": [5],
            "counters": [{"minute": int(datetime.now(timezone.utc).timestamp() // 60 * 60), "requests": 3}]}
    assert any_collector.post("/v1/counters", body).status_code == 200
    assert any_collector.post("/v1/counters", {**body, "batch_id": "c-2"}).status_code == 200
    rows = any_collector.rows("SELECT version, source, actor FROM deploys")
    assert [tuple(r) for r in rows] == [("v9", "sdk", "sdk")]


def test_deploy_marks_read_deploys_and_fall_back_to_model_versions(engine: Engine) -> None:
    with_catalog(engine)
    with engine.begin() as conn:  # a version stored before deploys were recorded: no deploy row
        conn.execute(schema.model_versions.insert().values(model=FRAUD, version="legacy", first_seen=T0 - 10 * MINUTE))
    note_versions(engine, FRAUD, ["v1"], T0)
    record_deploy(engine, FRAUD, "v2", source="cli", actor="cli:alice", time=T0 + 30 * MINUTE, artifact_sha256=SHA,
                  note="new threshold")
    record_deploy(engine, FRAUD, "v1", source="api", actor="token:ci", time=T0 + 50 * MINUTE)  # a rollback
    with engine.connect() as conn:
        recent = recent_deploys(conn, FRAUD, T0 - timedelta(hours=1))
        assert [(d.version, d.deployed_at, d.source) for d in recent] == [
            ("v1", T0 + 50 * MINUTE, "api"), ("v2", T0 + 30 * MINUTE, "cli"), ("v1", T0, "sdk")]
        assert recent[1].artifact_sha256 == SHA and recent[1].note == "new threshold"
        everything = recent_deploys(conn, FRAUD, T0 - timedelta(hours=1), limit=10)
    assert (everything[-1].version, everything[-1].deployed_at, everything[-1].source) == ("legacy", T0 - 10 * MINUTE, None)
    shown = deploys(engine, FRAUD, T0, T0 + 45 * MINUTE)
    assert [(d.version, d.at, d.source, d.artifact_sha256) for d in shown] == [
        ("v2", T0 + 30 * MINUTE, "cli", SHA), ("v1", T0, "sdk", None)]
    assert deploy_counts(engine, [FRAUD, "other"], T0 - timedelta(hours=1), T0 + timedelta(hours=1)) == {FRAUD: 4}
    assert deploy_counts(engine, [FRAUD], T0 + MINUTE, T0 + 40 * MINUTE) == {FRAUD: 1}


def test_version_traffic_sums_requests_per_version_in_the_range(engine: Engine) -> None:
    with_catalog(engine)
    record_deploy(engine, FRAUD, "v2", source="api", actor="token:ci", time=T0, artifact_sha256=SHA)
    counters(engine, "v1", T0, 10)
    counters(engine, "v1", T0 + MINUTE, 5)
    counters(engine, "v2", T0 + MINUTE, 7)
    counters(engine, "v2", T0 + MINUTE, 1, batch="b2")
    counters(engine, "v3", T0 + 20 * MINUTE, 9)  # outside the range
    counters(engine, "v4", T0 + MINUTE, 0)  # a client that reported drops only
    with engine.connect() as conn:
        rows = version_traffic(conn, [FRAUD], T0, T0 + 15 * MINUTE)
        assert [(t.version, t.requests, t.artifact_sha256) for t in rows] == [("v1", 15, None), ("v2", 8, SHA)]
        assert version_traffic(conn, ["other"], T0, T0 + 15 * MINUTE) == []
