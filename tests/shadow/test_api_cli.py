"""The report over HTTP (read scope) and through the CLI, the runner as its own process
(SIGTERM), and a backtest process killed with SIGKILL then resumed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from fastapi.testclient import TestClient

from collector.app import create_app
from config.settings import Settings
from modelwatch.cli import main
from shadow.registry import list_candidates, load_candidate, register_candidate
from shadow.replay import backtest
from shadow.report import shadow_report
from shadow.runner import RunnerConfig, ShadowRunner
from store.schema_shadow import shadow_outputs, shadow_progress
from store.tokens import create_token
from tests.conftest import REPO_ROOT
from tests.shadow.conftest import N_ROWS, START, Models, Seed, model_spec, regression_spec


def test_api_returns_the_report(seed: Seed, models: Models) -> None:
    register_candidate(seed.engine, seed.model, "worse", models.onnx["worse"])
    backtest(seed.engine, seed.model, load_candidate(seed.engine, seed.model, list_candidates(seed.engine)[0]),
             seed.start, seed.end)
    app = create_app(Settings(database_url="sqlite:///unused.db"), engine=seed.engine, monitors=seed.monitors)
    read = {"Authorization": f"Bearer {create_token(seed.engine, ['read'], 'reader')}"}
    ingest = {"Authorization": f"Bearer {create_token(seed.engine, ['ingest'], 'writer')}"}
    params = {"from": seed.start.isoformat(), "to": seed.end.isoformat()}
    with TestClient(app) as client:
        response = client.get("/v1/models/fraud/shadow", params=params, headers=read)
        assert response.status_code == 200
        body = response.json()
        assert body == json.loads(json.dumps(shadow_report(seed.engine, seed.model, seed.start, seed.end).to_dict()))
        assert body["candidates"][0]["verdict"]["decision"] == "reject"
        assert client.get("/v1/models/fraud/shadow", params=params).status_code == 401
        assert client.get("/v1/models/fraud/shadow", params=params, headers=ingest).status_code == 403
        assert client.get("/v1/models/nope/shadow", headers=read).status_code == 404
        missing = client.get("/v1/models/fraud/shadow", params={"candidate": "nope"}, headers=read)
        assert missing.status_code == 404 and "no active shadow candidate named 'nope'" in missing.json()["error"]
        backwards = client.get("/v1/models/fraud/shadow", params={"from": params["to"], "to": params["from"]}, headers=read)
        assert backwards.status_code == 422


@pytest.fixture
def cli_env(sqlite_seed: Seed, models: Models, tmp_path: Path) -> tuple[list[str], Seed, Path]:
    config = tmp_path / "monitors.yaml"
    config.write_text(yaml.safe_dump({"version": 1, "models": [model_spec(), regression_spec()]}))
    for name, content in models.onnx.items():
        (tmp_path / f"{name}.onnx").write_bytes(content)
    url = sqlite_seed.engine.url.render_as_string(hide_password=False)
    return ["--db", url, "--config", str(config)], sqlite_seed, tmp_path


def test_cli_round_trip(cli_env: tuple[list[str], Seed, Path], capsys: pytest.CaptureFixture[str]) -> None:
    flags, seed, files = cli_env
    assert main(["shadow", "add", "--model", "fraud", "--name", "worse", str(files / "worse.onnx"),
                 "--production", str(files / "production.onnx"), *flags]) == 0
    out = capsys.readouterr().out
    assert "fraud/worse registered: sha256" in out and "X[6]" in out and "CPUExecutionProvider" in out
    assert "production ONNX for the noise floor" in out
    mapping = files / "mapping.yaml"
    mapping.write_text(yaml.safe_dump({"inputs": [{"name": "X", "features": ["x1", "x2", "x3"]}]}))
    assert main(["shadow", "add", "--model", "fraud", "--name", "narrow", str(files / "better.onnx"),
                 "--mapping", str(mapping), *flags]) == 2
    assert "input 'X' takes 6 columns; the mapping gives 3" in capsys.readouterr().err
    assert main(["shadow", "add", "--model", "fraud", "--name", "junk", str(mapping), *flags]) == 2
    assert "ONNX Runtime cannot load the file" in capsys.readouterr().err

    assert main(["shadow", "list", "--model", "fraud", *flags]) == 0
    listing = capsys.readouterr().out
    assert "fraud/worse  candidate" in listing and "production (noise floor)" in listing

    span = ["--from", seed.start.isoformat(), "--to", seed.end.isoformat()]
    assert main(["shadow", "backtest", "--model", "fraud", *span, "--quiet", *flags]) == 0
    out = capsys.readouterr().out
    assert f"fraud/worse: {N_ROWS} row(s) replayed in 2 batch(es), 0 error(s)" in out and "on CPUExecutionProvider" in out
    assert main(["shadow", "backtest", "--model", "fraud", "--candidate", "worse", *span, "--quiet", *flags]) == 0
    assert "(range already done)" in capsys.readouterr().out

    assert main(["shadow", "report", "--model", "fraud", *span, "--json", *flags]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document == json.loads(json.dumps(shadow_report(seed.engine, seed.model, seed.start, seed.end).to_dict()))
    assert main(["shadow", "report", "--model", "fraud", *span, *flags]) == 0
    text = capsys.readouterr().out
    assert "worse: REJECT  [CPUExecutionProvider]" in text and "significantly less accurate" in text
    assert "noise floor (production-" in text

    assert main(["shadow", "remove", "--model", "fraud", "--name", "worse", *flags]) == 0
    assert main(["shadow", "remove", "--model", "fraud", "--name", "worse", *flags]) == 2
    assert "no active shadow candidate" in capsys.readouterr().err


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "modelwatch.cli", *args]


def _child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO_ROOT)}


def test_a_killed_backtest_resumes(cli_env: tuple[list[str], Seed, Path]) -> None:
    flags, seed, files = cli_env
    registered = register_candidate(seed.engine, seed.model, "better", seed_bytes(files)).candidate
    span = ["--from", seed.start.isoformat(), "--to", seed.end.isoformat()]
    process = subprocess.Popen(_cli("shadow", "backtest", "--model", "fraud", "--candidate", "better", *span,
                                    "--batch-size", "20", "--rate", "400", "--quiet", *flags),
                               env=_child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    done = 0
    while done < 100 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
        with seed.engine.connect() as conn:
            done = conn.execute(sa.select(shadow_progress.c.rows_done)).scalar() or 0
    process.send_signal(signal.SIGKILL)  # no cleanup of any kind
    process.wait(10)
    with seed.engine.connect() as conn:
        killed_at = conn.execute(sa.select(sa.func.count()).select_from(shadow_outputs)).scalar()
        progress = conn.execute(sa.select(shadow_progress)).one()
    assert 100 <= killed_at < N_ROWS and progress.finished_at is None and progress.rows_done == killed_at
    outcome = backtest(seed.engine, seed.model, load_candidate(seed.engine, seed.model, registered), seed.start, seed.end)
    assert outcome.rows_replayed == N_ROWS - killed_at and outcome.finished
    with seed.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(shadow_outputs)).scalar() == N_ROWS


def seed_bytes(files: Path) -> bytes:
    return (files / "better.onnx").read_bytes()


def test_runner_tails_every_candidate(seed: Seed, models: Models) -> None:
    register_candidate(seed.engine, seed.model, "better", models.onnx["better"], production=models.onnx["production"],
                       now=START)
    register_candidate(seed.engine, seed.model, "worse", models.onnx["worse"], now=START)
    runner = ShadowRunner(seed.engine, seed.monitors, RunnerConfig(batch_size=500, max_batches_per_pass=1),
                          clock=lambda: seed.end + timedelta(minutes=1))
    first = runner.run_once()
    assert sorted(o.rows_replayed for o in first) == [500, 500, 500] and not any(o.finished for o in first)
    while not all(o.finished for o in runner.run_once()):
        pass
    assert {loaded.runnable.session.provider for loaded in runner.loaded.values()} == {"CPUExecutionProvider"}
    with seed.engine.connect() as conn:
        counts = conn.execute(sa.select(shadow_outputs.c.candidate_id, sa.func.count())
                              .group_by(shadow_outputs.c.candidate_id)).all()
    assert sorted(n for _, n in counts) == [N_ROWS] * 3
    # A removed candidate is dropped at the next cycle.
    from shadow.registry import remove_candidate
    remove_candidate(seed.engine, "fraud", "worse")
    runner.run_once()
    names = sorted(loaded.candidate.name for loaded in runner.loaded.values())
    assert names[0] == "better" and names[1].startswith("production-") and len(names) == 2


def test_runner_process_stops_on_sigterm(cli_env: tuple[list[str], Seed, Path]) -> None:
    flags, seed, files = cli_env
    register_candidate(seed.engine, seed.model, "better", seed_bytes(files))
    process = subprocess.Popen(_cli("shadow", "run", "--poll", "0.2", *flags), env=_child_env(),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        with seed.engine.connect() as conn:
            while conn.execute(sa.select(shadow_progress)).first() is None:
                assert time.monotonic() < deadline and process.poll() is None, process.stderr.read() if process.stderr else ""
                time.sleep(0.1)
                conn.rollback()
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
    assert "candidate better of fraud on CPUExecutionProvider" in err and "shadow runner stopped" in err


def test_runner_survives_candidates_it_cannot_load(sqlite_seed: Seed, models: Models,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    from shadow.session import SessionConfig

    register_candidate(sqlite_seed.engine, sqlite_seed.model, "better", models.onnx["better"], now=START)
    only_cuda = RunnerConfig(session=SessionConfig(providers=("CUDAExecutionProvider",)))
    runner = ShadowRunner(sqlite_seed.engine, sqlite_seed.monitors, only_cuda, clock=lambda: sqlite_seed.end)
    assert runner.run_once() == [] and runner.loaded == {}
    assert "candidate better of fraud cannot be loaded: no usable execution provider" in caplog.text
