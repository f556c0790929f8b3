"""Silences through the API and the CLI (one store), SLO gauges on /metrics, and
``modelwatch rules export`` accepted by promtool."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import Engine

from alerts.cycle import run_alert_cycle
from collector.app import create_app
from store import schema
from store.tokens import create_token
from store.upsert import insert_or_ignore
from tests.cli.test_cli import run
from tests.collector.conftest import make_settings, monitors_for_tests
from tests.conftest import unavailable
from tests.alerts_io.streams import write_counters


@pytest.fixture
def app(sqlite_engine: Engine) -> Iterator[tuple[TestClient, dict[str, str]]]:
    client = TestClient(create_app(make_settings(), engine=sqlite_engine, monitors=monitors_for_tests()))
    with client:
        tokens = {scope: create_token(sqlite_engine, [scope], f"test-{scope}") for scope in ("read", "admin")}
        yield client, tokens


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def db_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_silence_cli_and_api_round_trip(app: tuple[TestClient, dict[str, str]], sqlite_engine: Engine) -> None:
    client, tokens = app
    admin = bearer(tokens["admin"])
    added = run("silence", "add", "--matcher", 'model="fraud-detector"', "--matcher", 'severity=~"page|ticket"',
                "--comment", "planned failover", "--author", "alice", "--duration", "2h", "--db", db_url(sqlite_engine))
    assert added.returncode == 0, added.stderr
    silence_id = added.stdout.strip()
    listed = client.get("/v1/silences", headers=admin).json()["silences"]
    assert [(s["id"], s["state"], s["author"]) for s in listed] == [(silence_id, "active", "alice")]
    assert listed[0]["matchers"] == ['model="fraud-detector"', 'severity=~"page|ticket"']

    made = client.post("/v1/silences", headers=admin, json={"matchers": ['slo="latency-p99"'], "author": "bob",
                                                           "comment": "known slow dependency", "duration": "30m"})
    assert made.status_code == 201, made.text
    cli_list = run("silence", "list", "--json", "--db", db_url(sqlite_engine))
    assert {s["author"] for s in json.loads(cli_list.stdout)} == {"alice", "bob"}

    assert client.delete(f"/v1/silences/{silence_id}", headers=admin).status_code == 200
    assert client.delete(f"/v1/silences/{silence_id}", headers=admin).status_code == 404
    expired = run("silence", "expire", made.json()["id"], "--db", db_url(sqlite_engine))
    assert expired.returncode == 0, expired.stderr
    assert run("silence", "expire", made.json()["id"], "--db", db_url(sqlite_engine)).returncode == 1
    everything = json.loads(run("silence", "list", "--all", "--json", "--db", db_url(sqlite_engine)).stdout)
    assert {s["state"] for s in everything} == {"expired"} and all(s["expired_at"] for s in everything)
    assert client.get("/v1/silences", headers=admin).json()["silences"] == []
    with sqlite_engine.connect() as conn:
        audit = conn.execute(sa.text("SELECT actor, action FROM audit_log WHERE action LIKE 'silence.%' ORDER BY id")).all()
    assert [a.action for a in audit] == ["silence.create", "silence.create", "silence.expire", "silence.expire"]
    assert audit[0].actor == "cli:alice" and audit[1].actor == "token:test-admin"


def test_silences_api_needs_admin_and_valid_matchers(app: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = app
    body = {"matchers": ['model="m"'], "author": "a", "comment": "c", "duration": "1h"}
    assert client.post("/v1/silences", json=body).status_code == 401
    assert client.post("/v1/silences", json=body, headers=bearer(tokens["read"])).status_code == 403
    assert client.get("/v1/silences", headers=bearer(tokens["read"])).status_code == 200  # listing is read scope
    admin = bearer(tokens["admin"])
    bad = client.post("/v1/silences", headers=admin, json={**body, "matchers": ["model"]})
    assert bad.status_code == 422 and "matcher" in bad.text
    everything = client.post("/v1/silences", headers=admin, json={**body, "matchers": ['team=~".*"']})
    assert everything.status_code == 422 and "every alert" in everything.text
    assert client.post("/v1/silences", headers=admin, json={k: v for k, v in body.items() if k != "duration"}).status_code == 422


def test_metrics_show_slo_and_drift_gauges(app: tuple[TestClient, dict[str, str]], sqlite_engine: Engine) -> None:
    client, _ = app
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    requests = np.full(120, 50.0)
    errors = np.zeros(120)
    errors[-10:] = 50.0
    write_counters(sqlite_engine, "fraud-detector", now - timedelta(minutes=120), requests, errors)
    with sqlite_engine.begin() as conn:
        insert_or_ignore(conn, schema.analysis_results, [{
            "model": "fraud-detector", "version": "*", "window_start": now - timedelta(hours=1), "window_end": now,
            "slice_key": "", "slice_value": "", "kind": "drift", "metric": "psi", "feature": "amount", "value": 0.27,
            "threshold": 0.2, "status": "drift", "n": 1000, "details": None, "computed_at": now}])
    run_alert_cycle(sqlite_engine, monitors_for_tests(), now + timedelta(seconds=5))
    text = client.get("/metrics").text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    burns = {(s.labels["slo"], s.labels["window"]): s.value for s in families["modelwatch_slo_burn_rate"].samples}
    assert burns[("availability", "5m")] == pytest.approx(1000.0) and burns[("availability", "1h")] > 14.4
    budget = {s.labels["slo"]: s.value for s in families["modelwatch_slo_error_budget_remaining_ratio"].samples}
    assert budget["availability"] < 0  # 10 failed minutes of 2 hours overspend a 99.9 % budget
    sli = {s.labels["slo"]: s.value for s in families["modelwatch_slo_sli_ratio"].samples}
    assert sli["availability"] == pytest.approx(110 / 120)
    firing = {(s.labels["slo"], s.labels["severity"]): s.value for s in families["modelwatch_slo_alert_firing"].samples}
    assert firing[("availability", "page")] == 1.0
    drift = [s for s in families["modelwatch_drift_score"].samples if s.labels["feature"] == "amount"]
    assert drift[0].value == pytest.approx(0.27) and drift[0].labels["metric"] == "psi"
    promtool = shutil.which("promtool")
    if promtool:  # the exposition itself passes Prometheus' own linter (names, help, types)
        lint = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
        assert lint.returncode == 0, lint.stdout + lint.stderr


def test_rules_export_passes_promtool(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        unavailable("promtool not found: install Debian's package with `apt-get install prometheus`")
    out = tmp_path / "rules.yml"
    exported = run("rules", "export", "--config", "examples/monitors.yaml", "-o", str(out))
    assert exported.returncode == 0, exported.stderr
    checked = subprocess.run([promtool, "check", "rules", str(out)], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0 and "SUCCESS" in checked.stdout, checked.stdout + checked.stderr
    # The alerts fire as modelwatch's would: a full outage burns 1000x over every window.
    test = tmp_path / "test.yml"
    series = "\n".join(
        f"      - series: 'modelwatch_slo_burn_rate{{model=\"fraud-detector\",slo=\"availability\",kind=\"availability\",window=\"{w}\"}}'\n"
        f"        values: '1000x10'" for w in ("5m", "30m", "1h", "2h", "6h", "1d", "3d"))
    # The SLO declares no owner or runbook of its own: the model's show (config.ownership).
    owners = "owner: '@fraud-oncall', team: payments-ml, runbook_url: 'https://wiki.example.com/runbooks/fraud-detector'"
    test.write_text(f"""rule_files: [{out}]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
{series}
    alert_rule_test:
      - eval_time: 5m
        alertname: SLOBurnRate
        exp_alerts:
          - exp_labels: {{alertname: SLOBurnRate, model: fraud-detector, slo: availability, sli: availability, kind: slo, severity: page, team: payments-ml}}
            exp_annotations: {{summary: SLO availability of fraud-detector is burning its error budget, description: Scoring calls that return without an error., {owners}}}
          - exp_labels: {{alertname: SLOBurnRate, model: fraud-detector, slo: availability, sli: availability, kind: slo, severity: ticket, team: payments-ml}}
            exp_annotations: {{summary: SLO availability of fraud-detector is burning its error budget, description: Scoring calls that return without an error., {owners}}}
""")
    tested = subprocess.run([promtool, "test", "rules", str(test)], capture_output=True, text=True, timeout=60)
    assert tested.returncode == 0, tested.stdout + tested.stderr
