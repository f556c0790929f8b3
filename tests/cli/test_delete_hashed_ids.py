"""``modelwatch delete --prediction-id`` finds ids the collector stored as their keyed hash (an
e-mail used as a prediction id), deletes the prediction and its label, and keeps the id itself
off the terminal and out of the audit log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone

import pytest
from sqlalchemy.engine import Engine

from modelwatch.redact import hash_value
from store.audit import read_audit, subject_digest
from store.records import LabelRow, PredictionRow
from store.writes import write_labels, write_predictions
from tests.cli.test_delete_retention_cli import CONFIG, PII_KEY, db, run  # noqa: F401  (db: fixture)

EMAIL = "erase.me@example.org"
MODEL = "fraud-detector"


@pytest.fixture
def hashed_db(db: tuple[str, Engine]) -> tuple[str, Engine]:
    """The CLI tests' store plus a prediction and its label under an e-mail id, stored (as the
    collector stores it) as the id's keyed hash."""
    _, engine = db
    now = datetime.now(timezone.utc)
    stored = hash_value(EMAIL, PII_KEY.encode())
    write_predictions(engine, [PredictionRow(time=now, model=MODEL, version="v1", prediction_id=stored,
                                             features={"amount": 1.0})])
    write_labels(engine, [LabelRow(time=now, model=MODEL, prediction_id=stored, label="1")])
    return db


def test_delete_by_an_id_stored_hashed(hashed_db: tuple[str, Engine]) -> None:
    url, engine = hashed_db
    result = run(url, "delete", "--model", MODEL, "--prediction-id", EMAIL, "--actor", "dpo")
    assert result.returncode == 0, result.stderr
    assert "deleted 1 predictions, 1 labels, 0 shadow_outputs" in result.stdout
    assert EMAIL not in result.stdout + result.stderr
    (row,) = read_audit(engine, "deletion.request")
    # The audited subject is the id as the requester gave it (digested), not its stored hash.
    assert row.details["subject_sha256"] == subject_digest([EMAIL])
    assert EMAIL not in json.dumps(row.details) and hash_value(EMAIL, PII_KEY.encode()) not in json.dumps(row.details)


def test_without_the_key_a_note_says_hashed_ids_cannot_be_matched(hashed_db: tuple[str, Engine]) -> None:
    url, _ = hashed_db
    env = {k: v for k, v in os.environ.items() if k != "MODELWATCH_PII_KEY"}
    result = subprocess.run([sys.executable, "-m", "modelwatch.cli", "delete", "--model", MODEL, "--prediction-id",
                             EMAIL, "--dry-run", "--db", url, "--config", str(CONFIG)],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "no PII key" in result.stderr and "would delete 0 predictions" in result.stdout
    assert EMAIL not in result.stdout + result.stderr
