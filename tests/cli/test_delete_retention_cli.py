"""``modelwatch delete`` and ``modelwatch retention`` as a user runs them (real subprocesses), and
the config-load audit rows the service commands write at start."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from modelwatch.redact import hash_value
from store.audit import config_sha256, read_audit
from store.bootstrap import create_schema
from store.engine import create_engine
from store.records import LabelRow, PredictionRow
from store.writes import write_labels, write_predictions
from tests.conftest import REPO_ROOT

CONFIG = REPO_ROOT / "examples" / "monitors.yaml"
EMAIL = "max.mustermann@example.de"
PII_KEY = "test-pii-key"


def run(db: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MODELWATCH_PII_KEY": PII_KEY}
    return subprocess.run([sys.executable, "-m", "modelwatch.cli", *args, "--db", db, "--config", str(CONFIG)],
                          capture_output=True, text=True, cwd=REPO_ROOT, env=env, timeout=120)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    url = f"sqlite:///{tmp_path / 'mw.db'}"
    engine = create_engine(url)
    create_schema(engine)
    now = datetime.now(timezone.utc)
    hashed = hash_value(EMAIL, PII_KEY.encode())  # what the collector stores for a hashed field
    write_predictions(engine, [
        PredictionRow(time=now - timedelta(minutes=i), model="fraud-detector", version="v1", prediction_id=f"r-{i}",
                      features={"amount": 5.0, "customer_email": hashed if i < 4 else "hmac:" + "0" * 64})
        for i in range(10)])
    write_labels(engine, [LabelRow(time=now, model="fraud-detector", prediction_id="r-9", label="1")])
    yield url, engine
    engine.dispose()


def test_delete_by_entity_matches_the_hashed_field_and_prints_counts_only(db) -> None:
    url, engine = db
    result = run(url, "delete", "--model", "fraud-detector", "--entity", f"customer_email={EMAIL}", "--actor", "dpo")
    assert result.returncode == 0, result.stderr
    assert "4 prediction id(s) matched; deleted 4 predictions, 0 labels, 0 shadow_outputs" in result.stdout
    assert EMAIL not in result.stdout + result.stderr
    (row,) = read_audit(engine, "deletion.request")
    assert row.actor == "dpo" and row.details["key"] == "customer_email"


def test_delete_by_prediction_ids_and_file(db, tmp_path) -> None:
    url, engine = db
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text("r-8\nr-9\n\n")
    result = run(url, "delete", "--model", "fraud-detector", "--prediction-id", "r-6", "r-7", "--ids-file", str(ids_file))
    assert result.returncode == 0, result.stderr
    assert "deleted 4 predictions, 1 labels" in result.stdout
    assert read_audit(engine, "deletion.request")[0].actor.startswith("cli:")


@pytest.mark.parametrize("args, message", [
    (["--entity", "no_such_feature=1"], "neither a feature nor a slice"),
    (["--entity", "novalue"], "KEY=VALUE"),
    ([], "give --prediction-id"),
    (["--prediction-id", "a", "--entity", "amount=1"], "give --prediction-id"),
])
def test_delete_refuses_unclear_requests(db, args, message) -> None:
    url, engine = db
    result = run(url, "delete", "--model", "fraud-detector", *args)
    assert result.returncode == 2 and message in result.stderr
    assert read_audit(engine, "deletion.request") == []


def test_retention_command_and_scheduler_config_audit(db) -> None:
    url, engine = db
    result = subprocess.run([sys.executable, "-m", "modelwatch.cli", "retention", "--db", url],
                            capture_output=True, text=True, cwd=REPO_ROOT, timeout=120,
                            env={**os.environ, "MODELWATCH_RETENTION_DAYS": '{"predictions": 0.003}'})
    assert result.returncode == 0, result.stderr
    assert "predictions: " in result.stdout
    assert 0 < read_audit(engine, "retention.apply")[0].details["deleted"]["predictions"] < 10

    result = run(url, "scheduler", "--once")
    assert result.returncode == 0, result.stderr
    (row,) = read_audit(engine, "config.load")
    assert row.details == {"sha256": config_sha256(CONFIG), "models": 1, "component": "scheduler"}


def test_scheduler_runs_retention_as_a_daily_job(db) -> None:
    from analysis.jobs.scheduler import RETENTION_JOB_ID, AnalysisScheduler
    from config.loader import load_monitors
    from store.retention import retention_policies

    _, engine = db
    scheduler = AnalysisScheduler(engine, load_monitors(CONFIG), retention=retention_policies({"predictions": 0.003}))
    scheduler.start_background()
    try:
        assert scheduler._scheduler is not None
        job = scheduler._scheduler.get_job(RETENTION_JOB_ID)
        assert job is not None and job.trigger.interval == timedelta(days=1)
    finally:
        scheduler.shutdown()
    scheduler.run_retention()
    assert read_audit(engine, "retention.apply")[0].actor.startswith("scheduler:")
