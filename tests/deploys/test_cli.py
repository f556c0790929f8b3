"""``modelwatch deploy record|list`` as a user runs them: a real subprocess on a real store."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from store.engine import create_engine
from tests.cli.test_cli import run
from tests.deploys.conftest import SHA

CONFIG = "examples/monitors.yaml"


def rows(url: str, sql: str) -> list[sa.Row]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(sql)))
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'cli.db'}"
    return str(request.getfixturevalue("pg_database_url"))


def test_record_hashes_the_artifact_and_list_shows_it(db: str, tmp_path: Path) -> None:
    artifact = tmp_path / "model.onnx"
    artifact.write_bytes(b"\x08\x07onnx" * 100_000)
    recorded = run("deploy", "record", "--db", db, "--config", CONFIG, "--model", "fraud-detector", "--version", "2.5.0",
                   "--artifact", str(artifact), "--note", "retrained on March data", "--time", "2026-03-01T12:00:00Z")
    assert recorded.returncode == 0, recorded.stderr
    deploy_id = int(recorded.stdout.strip())  # the id alone on stdout
    digest = hashlib.sha256(artifact.read_bytes()).hexdigest()
    assert f"(artifact {digest[:12]})" in recorded.stderr
    stored = rows(db, "SELECT id, version, source, actor, artifact_sha256, note FROM deploys")
    assert len(stored) == 1 and stored[0].id == deploy_id
    assert (stored[0].source, stored[0].artifact_sha256, stored[0].note) == ("cli", digest, "retrained on March data")
    assert stored[0].actor.startswith("cli:")
    assert rows(db, "SELECT artifact_sha256 FROM model_versions WHERE version = '2.5.0'")[0][0] == digest
    assert [r.actor for r in rows(db, "SELECT actor FROM audit_log WHERE action = 'deploy.record'")] == [stored[0].actor]

    second = run("deploy", "record", "--db", db, "--config", CONFIG, "--model", "fraud-detector", "--version", "2.5.1",
                 "--artifact-sha256", SHA, "--time", "2026-03-02T08:00:00+01:00")
    assert second.returncode == 0, second.stderr
    listed = run("deploy", "list", "--db", db, "--model", "fraud-detector", "--from", "2026-02-28T00:00:00Z",
                 "--to", "2026-03-03T00:00:00Z", "--json")
    assert listed.returncode == 0, listed.stderr
    events = json.loads(listed.stdout)
    assert [(e["version"], e["time"], e["source"]) for e in events] == [
        ("2.5.1", "2026-03-02T07:00:00+00:00", "cli"), ("2.5.0", "2026-03-01T12:00:00+00:00", "cli")]
    table = run("deploy", "list", "--db", db, "--model", "fraud-detector", "--from", "2026-02-28T00:00:00Z",
                "--to", "2026-03-03T00:00:00Z")
    assert table.returncode == 0 and SHA[:12] in table.stdout and "retrained on March data" in table.stdout


@pytest.mark.parametrize(("args", "words"), [
    (["--model", "nope"], "--model: 'nope' is not declared"),
    (["--version", "2.5 final"], "--version: must match"),
    (["--artifact-sha256", "abc"], "--artifact-sha256: must be a SHA-256"),
    (["--time", "2026-03-01T12:00:00"], "--time: must carry a time zone"),
    (["--time", "2999-01-01T00:00:00Z"], "--time: is more than 5 minutes in the future"),
    (["--time", "soon"], "is not an RFC 3339 time"),
    (["--artifact", "/no/such/file.onnx"], "--artifact /no/such/file.onnx"),
])
def test_bad_input_fails_and_stores_nothing(tmp_path: Path, args: list[str], words: str) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    base = {"--model": "fraud-detector", "--version": "2.5.0"}
    base.update(dict(zip(args[::2], args[1::2])))
    result = run("deploy", "record", "--db", db, "--config", CONFIG, *(x for kv in base.items() for x in kv))
    assert result.returncode == 1 and words in result.stderr, result.stderr
    assert result.stdout == ""
    assert not (tmp_path / "cli.db").exists() or rows(db, "SELECT count(*) FROM deploys")[0][0] == 0


def test_artifact_and_its_sha_are_exclusive(tmp_path: Path) -> None:
    result = run("deploy", "record", "--config", CONFIG, "--model", "fraud-detector", "--version", "v1",
                 "--artifact", "x", "--artifact-sha256", SHA, "--db", f"sqlite:///{tmp_path / 'x.db'}")
    assert result.returncode == 2 and "not allowed with argument" in result.stderr


def test_help() -> None:
    for command in (["deploy"], ["deploy", "record"], ["deploy", "list"]):
        result = run(*command, "--help")
        assert result.returncode == 0 and "usage: modelwatch deploy" in result.stdout
