"""Retention (scheduled deletes per table) and deletion requests, on SQLite and PostgreSQL,
with the audit rows they leave — which must never hold the personal values themselves."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from store import schema
from store import schema_alerts as alerts
from store import schema_shadow as shadow
from store.audit import read_audit, record_config_load, subject_digest
from store.deletion import Entity, delete_predictions
from store.records import CounterRow, LabelRow, PredictionRow
from store.retention import DEFAULT_RETENTION, apply_retention, retention_policies
from store.writes import write_counters, write_labels, write_predictions

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
EMAIL = "jane.doe@example.com"


def _prediction(i: int, time: datetime, model: str = "churn", **features: object) -> PredictionRow:
    return PredictionRow(time=time, model=model, version="v1", prediction_id=f"p-{i}",
                         features={"age": 30 + i, "plan": "pro", **features}, prediction="1", score=0.7,
                         latency_ms=2.0, weight=1.0, slices={"plan": "pro"})


def _seed_candidate(engine: Engine, model: str = "churn") -> int:
    with engine.begin() as conn:
        conn.execute(schema.models.insert().values(name=model, task="binary", spec={}, created_at=NOW, updated_at=NOW))
        conn.execute(shadow.shadow_artifacts.insert().values(sha256="a" * 64, size_bytes=1, content=b"x", created_at=NOW))
        return conn.execute(shadow.candidates.insert().values(
            model=model, name="cand", sha256="a" * 64, mapping={}, outputs={}, production=False, sample_rate=1.0,
            created_at=NOW)).inserted_primary_key[0]  # type: ignore[index]


def _shadow_output(engine: Engine, candidate: int, prediction_id: str, time: datetime) -> None:
    with engine.begin() as conn:
        conn.execute(shadow.shadow_outputs.insert().values(
            candidate_id=candidate, prediction_id=prediction_id, time=time, label="1", batch_latency_ms=1.0,
            batch_size=1, provider="CPUExecutionProvider", replayed_at=time))


def _count(engine: Engine, table: sa.Table, *where: sa.ColumnElement) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one()


def _audit_text(engine: Engine) -> str:
    return json.dumps([dict(r._mapping) for r in read_audit(engine)], default=str)


# ---------------------------------------------------------------------------------- retention


def test_retention_policies_from_settings_override_defaults() -> None:
    policies = retention_policies({"predictions": 30, "audit_log": 0, "labels": 0})
    assert policies["predictions"] == timedelta(days=30)
    assert policies["labels"] is None and policies["audit_log"] is None
    assert policies["request_counters"] == DEFAULT_RETENTION["request_counters"]
    with pytest.raises(ValueError, match="predictons"):
        retention_policies({"predictons": 30})


def test_retention_deletes_only_what_is_past_each_tables_limit(engine: Engine) -> None:
    candidate = _seed_candidate(engine)
    # 200 days of history, one prediction (with label and shadow output) per day.
    days = [NOW - timedelta(days=d, hours=1) for d in range(200)]
    write_predictions(engine, [_prediction(d, t) for d, t in enumerate(days)])
    write_labels(engine, [LabelRow(time=t, model="churn", prediction_id=f"p-{d}", label="1") for d, t in enumerate(days)])
    write_counters(engine, [CounterRow(minute=t.replace(minute=0), model="churn", version="v1", batch_id=f"b{d}",
                                       requests=10, errors=0, latency_count=10, latency_sum_ms=5.0,
                                       latency_buckets={"+Inf": 10}) for d, t in enumerate(days)])
    for d, t in enumerate(days):
        _shadow_output(engine, candidate, f"p-{d}", t)
    with engine.begin() as conn:
        for d, status in ((10, "sent"), (190, "sent"), (195, "failed"), (199, "pending")):
            conn.execute(alerts.notifications.insert().values(
                notification_id=f"n{d}", receiver="hook", group_key="g", dedup_key=f"k{d}", sequence=1, kind="firing",
                payload={}, status=status, attempts=1, next_attempt_at=days[d], created_at=days[d]))

    policies = retention_policies({"predictions": 30, "labels": 60})
    report = apply_retention(engine, policies, NOW)

    assert _count(engine, schema.predictions) == 30
    assert _count(engine, schema.labels) == 60
    assert _count(engine, shadow.shadow_outputs) == 90  # default 90 days
    assert _count(engine, schema.request_counters) == 200  # 400 days by default: nothing old enough
    # The outbox keeps what is still pending however old; delivered and failed rows age out.
    assert sorted(r for (r,) in _rows(engine, sa.select(alerts.notifications.c.notification_id))) == ["n10", "n199"]
    assert report.deleted["predictions"] == 170 and report.deleted["labels"] == 140
    assert report.deleted["notifications"] == 2

    (row,) = read_audit(engine, "retention.apply")
    assert row.details["deleted"]["predictions"] == 170 and row.details["limits_days"]["predictions"] == 30
    # Idempotent: a second run (another scheduler replica) finds nothing and audits nothing.
    assert apply_retention(engine, policies, NOW).total == 0
    assert len(read_audit(engine, "retention.apply")) == 1


def _rows(engine: Engine, query: sa.Select) -> list[sa.Row]:
    with engine.connect() as conn:
        return list(conn.execute(query))


def test_retention_off_for_a_table_keeps_it(engine: Engine) -> None:
    write_predictions(engine, [_prediction(0, NOW - timedelta(days=1000))])
    report = apply_retention(engine, retention_policies({"predictions": 0}), NOW)
    assert "predictions" not in report.deleted and _count(engine, schema.predictions) == 1


# ---------------------------------------------------------------------------------- deletion


def test_delete_by_prediction_ids_removes_predictions_labels_and_shadow_outputs(engine: Engine) -> None:
    candidate = _seed_candidate(engine)
    write_predictions(engine, [_prediction(i, NOW - timedelta(minutes=i)) for i in range(1200)])
    write_predictions(engine, [_prediction(0, NOW, model="other")])  # same id, another model: kept
    # A corrected label is a second row for the same id: both go.
    write_labels(engine, [LabelRow(time=NOW - timedelta(minutes=m), model="churn", prediction_id=f"p-{i}", label="1")
                          for i in range(1200) for m in (0, 1)])
    for i in range(1200):
        _shadow_output(engine, candidate, f"p-{i}", NOW)

    ids = [f"p-{i}" for i in range(0, 1200, 2)] + ["never-stored"]  # 601 ids: more than one IN chunk
    report = delete_predictions(engine, "churn", actor="dpo@example.org", prediction_ids=ids, now=NOW)

    assert report.rows == {"predictions": 600, "labels": 1200, "shadow_outputs": 600}
    assert report.matched_ids == 601
    p = schema.predictions
    assert _count(engine, p, p.c.model == "churn") == 600
    assert _count(engine, p, p.c.model == "other") == 1
    assert _count(engine, schema.labels) == 1200 and _count(engine, shadow.shadow_outputs) == 600

    (row,) = read_audit(engine, "deletion.request")
    assert row.actor == "dpo@example.org" and row.target == "model:churn"
    assert row.details["rows"] == report.rows and row.details["subjects"] == 601
    assert row.details["subject_sha256"] == subject_digest(reversed(ids))  # order-independent
    assert "p-2" not in _audit_text(engine)


def test_delete_by_entity_matches_features_and_slices_and_never_audits_the_value(engine: Engine) -> None:
    write_predictions(engine, [_prediction(i, NOW - timedelta(minutes=i), customer=EMAIL if i % 3 == 0 else "x@y.z",
                                           account=1234 if i == 1 else 5) for i in range(30)])
    tagged = PredictionRow(time=NOW, model="churn", version="v1", prediction_id="tagged", features={"age": 1},
                           weight=1.0, slices={"customer": EMAIL})
    write_predictions(engine, [tagged])
    write_labels(engine, [LabelRow(time=NOW, model="churn", prediction_id="p-3", label="0")])

    dry = delete_predictions(engine, "churn", actor="cli:test", entity=Entity("customer", (EMAIL,)), dry_run=True)
    assert dry.rows["predictions"] == 11 and _count(engine, schema.predictions) == 31
    assert read_audit(engine, "deletion.request") == []

    report = delete_predictions(engine, "churn", actor="cli:test", entity=Entity("customer", (EMAIL,)))
    assert report.rows == {"predictions": 11, "labels": 1, "shadow_outputs": 0}
    assert _count(engine, schema.predictions) == 20
    # Numbers stored in JSON match their text form.
    assert delete_predictions(engine, "churn", actor="cli:test", entity=Entity("account", ("1234",))).rows["predictions"] == 1

    audit_text = _audit_text(engine)
    assert EMAIL not in audit_text and "1234" not in audit_text
    first = read_audit(engine, "deletion.request")[0]
    assert first.details["by"] == "entity" and first.details["key"] == "customer"
    assert first.details["subject_sha256"] == hashlib.sha256(f"customer={EMAIL}".encode()).hexdigest()


def test_delete_needs_exactly_one_kind_of_subject(engine: Engine) -> None:
    with pytest.raises(ValueError):
        delete_predictions(engine, "churn", actor="x")
    with pytest.raises(ValueError):
        delete_predictions(engine, "churn", actor="x", prediction_ids=["a"], entity=Entity("k", ("v",)))


def test_config_load_is_audited_with_path_and_sha256(engine: Engine, tmp_path) -> None:
    config = tmp_path / "monitors.yaml"
    config.write_text("version: 1\nmodels: []\n")
    digest = record_config_load(engine, config, "collector", 0)
    (row,) = read_audit(engine, "config.load")
    assert row.details["sha256"] == digest == hashlib.sha256(config.read_bytes()).hexdigest()
    assert row.target == f"config:{config.resolve()}" and row.actor.startswith("collector@")
