"""The ``modelwatch`` command as a user runs it: a real subprocess each time."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from store.engine import create_engine
from store.tokens import verify_token
from tests.conftest import REPO_ROOT, free_port, wait_for_port


def run(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "modelwatch.cli", *args], capture_output=True, text=True,
                          cwd=cwd or REPO_ROOT, env={**os.environ, **(env or {})}, timeout=120)


@pytest.mark.parametrize("command", [[], ["up"], ["collector"], ["check"], ["db", "upgrade"], ["token", "create"]])
def test_every_command_has_help(command):
    result = run(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert "usage: modelwatch" in result.stdout


def test_check_accepts_the_example_and_prints_detection_times():
    result = run("check", "examples/monitors.yaml")
    assert result.returncode == 0, result.stderr
    assert "SUCCESS: 1 model(s), 10 feature(s), 3 SLO(s)" in result.stdout
    assert "full outage detected after" in result.stdout


def test_check_prints_every_error_with_its_path(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "models:\n"
        "  - name: m\n    task: binary\n    positive_class: 1\n"
        "    features: [{name: x, type: numeric}, {name: y, type: nonsense}]\n"
        "    slos: [{name: acc, kind: quality, objective: 0.9}]\n"
    )
    result = run("check", str(bad))
    assert result.returncode == 1
    assert "models[0].features[1].type" in result.stderr

    never_fires = tmp_path / "never.yaml"
    never_fires.write_text(
        "models:\n"
        "  - name: m\n    task: binary\n    positive_class: 1\n"
        "    features: [{name: x, type: numeric}]\n"
        "    slos: [{name: acc, kind: quality, objective: 0.9}]\n"
    )
    result = run("check", str(never_fires))
    assert result.returncode == 1
    assert "models[0].slos[0]" in result.stderr and "can never fire" in result.stderr
    assert "maximum possible burn 10x" in result.stderr


def test_check_validates_routes_and_receivers(tmp_path):
    path = tmp_path / "routes.yaml"
    path.write_text(
        "models: []\n"
        "routes: {receiver: nobody}\n"
        "receivers: [{name: hook, type: webhook, url: 'http://127.0.0.1:1/x'}]\n"
    )
    result = run("check", str(path))
    assert result.returncode == 1
    assert "unknown receivers: nobody" in result.stderr


def test_token_create_prints_the_token_alone(tmp_path):
    db = f"sqlite:///{tmp_path / 'mw.db'}"
    result = run("token", "create", "--scope", "ingest", "--scope", "read", "--db", db)
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    assert result.stdout == token + "\n" and re.fullmatch(r"mw_[A-Za-z0-9_\-]{30,}", token)
    engine = create_engine(db)
    info = verify_token(engine, token)
    assert info is not None and set(info.scopes) == {"ingest", "read"}
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT token_sha256 FROM api_tokens")).scalar_one()
    assert token not in stored  # stored hashed
    engine.dispose()


def test_db_upgrade_creates_the_schema(tmp_path):
    db = f"sqlite:///{tmp_path / 'mw.db'}"
    result = run("db", "upgrade", "--db", db)
    assert result.returncode == 0, result.stderr
    engine = create_engine(db)
    assert {"predictions", "labels", "request_counters", "api_tokens"} <= set(sa.inspect(engine).get_table_names())
    engine.dispose()


def test_up_serves_on_sqlite_in_the_working_directory(tmp_path):
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "modelwatch.cli", "up", "--port", str(port), "--dashboard-port", "0"],
                               cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={k: v for k, v in os.environ.items() if not k.startswith("MODELWATCH_")})
    try:
        wait_for_port("127.0.0.1", port, timeout=60)
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200
        assert httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10).status_code == 200
        assert httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=10).status_code == 401
        assert (tmp_path / "modelwatch.db").exists()
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert process.returncode in (0, 130), output
    assert "modelwatch token create --scope ingest" in output
