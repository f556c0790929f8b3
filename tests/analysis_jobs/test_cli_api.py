"""``modelwatch analyze`` / ``modelwatch scheduler --once`` as real subprocesses, and the results
API on a real app."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sqlalchemy.engine import Engine

from analysis.jobs.run import RunContext
from analysis.jobs.schedule import Window
from store.analysis_results import read_results
from store.bootstrap import create_schema
from store.engine import create_engine
from tests.analysis_jobs.seed import HOUR, model_spec, monitors, recent_t0, seed
from tests.analysis_jobs.test_windows import run
from tests.collector.conftest import start_collector  # noqa: F401  (fixture)
from modelwatch.cli import main
from tests.conftest import REPO_ROOT


def modelwatch(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "modelwatch.cli", *args], capture_output=True, text=True,
                          cwd=REPO_ROOT, env={**os.environ, "COLUMNS": "100"}, timeout=120)


@pytest.fixture
def store_with_data(tmp_path: Path):
    spec = model_spec()
    config = tmp_path / "monitors.yaml"
    config.write_text(yaml.safe_dump({"version": 1, "models": [spec]}))
    url = f"sqlite:///{tmp_path / 'mw.db'}"
    engine = create_engine(url)
    create_schema(engine)
    t0 = recent_t0()
    seed(engine, monitors(spec).models[0], t0, per_hour=400)
    yield url, str(config), t0, engine
    engine.dispose()


def test_analyze_backfills_a_range(store_with_data):
    url, config, t0, engine = store_with_data
    result = modelwatch("analyze", "--model", "fraud", "--from", t0.isoformat(), "--to", (t0 + 4 * HOUR).isoformat(),
                        "--db", url, "--config", config)
    assert result.returncode == 0, result.stderr
    assert "4 window(s)" in result.stdout and "4 analysed" in result.stdout and "drift in 2" in result.stdout
    drift = read_results(engine, "fraud", "drift", t0, t0 + 4 * HOUR, metric="drift", feature="x")
    assert [r.status for r in drift] == ["no_drift", "no_drift", "drift", "drift"]


def test_analyze_again_and_the_scheduler_in_process(store_with_data, capsys):
    # the same commands through main(): no interpreter start-up per call
    url, config, t0, engine = store_with_data
    span = ["--from", t0.isoformat(), "--to", (t0 + 4 * HOUR).isoformat(), "--db", url, "--config", config]
    assert main(["analyze", "--model", "fraud", *span, "--quiet"]) == 0
    assert main(["analyze", "--model", "fraud", *span, "--kind", "performance", "--quiet"]) == 0
    assert "4 analysed" in capsys.readouterr().out
    assert len(read_results(engine, "fraud", "drift", t0, t0 + 4 * HOUR, metric="drift", feature="x")) == 4
    assert main(["analyze", "--model", "nope", *span]) == 2
    assert "unknown model 'nope'" in capsys.readouterr().err
    assert main(["scheduler", "--once", "--db", url, "--config", config]) == 0
    assert "window(s) analysed" in capsys.readouterr().out


def test_results_api_returns_stored_results(engine: Engine, start_collector):  # noqa: F811
    config = monitors()
    model = config.models[0]
    t0 = recent_t0()
    seed(engine, model, t0, hours=3, per_hour=300)
    ctx = RunContext(engine, "api-test")
    for h in range(3):
        run(ctx, model, Window(t0 + h * HOUR, t0 + (h + 1) * HOUR))
    collector = start_collector(engine, monitors=config)
    base = f"/v1/models/{model.name}"
    span = {"from": t0.isoformat(), "to": (t0 + 3 * HOUR).isoformat()}

    answer = collector.client.get(f"{base}/drift", params={**span, "metric": "drift", "feature": "x"},
                                  headers=collector.auth("read"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [r["status"] for r in body["results"]] == ["no_drift", "no_drift", "drift"]
    assert body["results"][2]["details"]["method"] == "wasserstein_norm" and body["version"] == "*"

    fr = collector.client.get(f"{base}/performance", params={**span, "slice": "country=FR", "metric": "accuracy"},
                              headers=collector.auth("read")).json()["results"]
    assert len(fr) == 3 and {(r["slice_key"], r["slice_value"]) for r in fr} == {("country", "FR")}
    every = collector.client.get(f"{base}/quality", params={**span, "slice": "*"}, headers=collector.auth("read"))
    assert {r["slice_key"] for r in every.json()["results"]} == {"", "channel", "country"}
    channel = collector.client.get(f"{base}/performance", params={**span, "slice": "channel", "metric": "label_coverage"},
                                   headers=collector.auth("read")).json()["results"]
    assert {r["slice_value"] for r in channel} == {"web", "ios"}

    assert collector.client.get(f"{base}/drift", params=span).status_code == 401
    assert collector.client.get(f"{base}/drift", params=span, headers=collector.auth("ingest")).status_code == 403
    assert collector.client.get("/v1/models/nope/drift", headers=collector.auth("read")).status_code == 404
    bad = collector.client.get(f"{base}/drift", params={"slice": "=x"}, headers=collector.auth("read"))
    assert bad.status_code == 422
    reversed_range = {"from": span["to"], "to": span["from"]}
    assert collector.client.get(f"{base}/drift", params=reversed_range, headers=collector.auth("read")).status_code == 422
