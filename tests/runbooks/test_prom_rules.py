"""``modelwatch rules export``: each SLO burn-rate alerting rule carries runbook_url, owner and team
annotations (the SLO's, else the model's), and Prometheus' own promtool evaluates them so."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

from alerts.prom_rules import prometheus_rules
from config.loader import parse_monitors
from tests.cli.test_cli import run
from tests.conftest import unavailable
from tests.runbooks.conftest import MODEL_OWNER, MODEL_RUNBOOK, SLO_OWNER, SLO_RUNBOOK, TEAM, document


def alerting_rules(rules: dict) -> list[tuple[str, dict]]:
    return [(group["name"], r) for group in rules["groups"] for r in group["rules"] if "alert" in r]


def owned(annotations: dict[str, str]) -> tuple[str | None, ...]:
    return tuple(annotations.get(k) for k in ("runbook_url", "owner", "team"))


def test_exported_alerts_carry_the_ownership_annotations() -> None:
    rules = alerting_rules(prometheus_rules(parse_monitors(document())))
    expected = {"fraud-availability": (SLO_RUNBOOK, SLO_OWNER, TEAM), "fraud-latency": (MODEL_RUNBOOK, MODEL_OWNER, TEAM),
                "churn-availability": (None, None, None)}
    slo_rules = [(group, rule) for group, rule in rules if rule["alert"] == "SLOBurnRate"]
    assert len(slo_rules) == 6  # page and ticket for each of the three SLOs
    for group, rule in slo_rules:
        assert owned(rule["annotations"]) == next(v for k, v in expected.items() if f"-{k}-" in group), group
    drift = {rule["expr"]: rule["annotations"] for group, rule in rules if rule["alert"] == "FeatureDrift"}
    assert [owned(a) for e, a in drift.items() if 'model="fraud"' in e] == [(MODEL_RUNBOOK, MODEL_OWNER, TEAM)]
    assert [owned(a) for e, a in drift.items() if 'model="churn"' in e] == [(None, None, None)]


def test_promtool_fires_the_rule_with_its_runbook(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        unavailable("promtool not found: install Debian's package with `apt-get install prometheus`")
    config = tmp_path / "monitors.yaml"
    config.write_text(yaml.safe_dump(document()))
    out = tmp_path / "rules.yml"
    exported = run("rules", "export", "--config", str(config), "-o", str(out))
    assert exported.returncode == 0, exported.stderr
    checked = subprocess.run([promtool, "check", "rules", str(out)], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0 and "SUCCESS" in checked.stdout, checked.stdout + checked.stderr
    burning = [{"series": f'modelwatch_slo_burn_rate{{model="fraud",slo="availability",kind="availability",window="{w}"}}',
                "values": "1000x10"} for w in ("5m", "30m", "1h", "2h", "6h", "1d", "3d")]
    drifted = {"series": 'modelwatch_drift_detected{model="fraud",version="v3",feature="amount",metric="psi"}', "values": "1x10"}
    slo_labels = {"alertname": "SLOBurnRate", "model": "fraud", "slo": "availability", "sli": "availability", "kind": "slo",
                  "team": TEAM}
    slo_annotations = {"summary": "SLO availability of fraud is burning its error budget",
                       "description": "availability objective 0.999 over 30d",
                       "owner": SLO_OWNER, "team": TEAM, "runbook_url": SLO_RUNBOOK}
    drift_labels = {"alertname": "FeatureDrift", "model": "fraud", "version": "v3", "feature": "amount", "metric": "psi",
                    "kind": "drift", "severity": "ticket"}
    drift_annotations = {"summary": "Feature amount of fraud drifted (psi)", "owner": MODEL_OWNER, "team": TEAM,
                         "runbook_url": MODEL_RUNBOOK}
    test = tmp_path / "test.yml"
    test.write_text(yaml.safe_dump({"rule_files": [str(out)], "evaluation_interval": "1m", "tests": [{
        "interval": "1m", "input_series": [*burning, drifted],
        "alert_rule_test": [
            {"eval_time": "5m", "alertname": "SLOBurnRate", "exp_alerts": [
                {"exp_labels": {**slo_labels, "severity": severity}, "exp_annotations": slo_annotations}
                for severity in ("page", "ticket")]},
            {"eval_time": "5m", "alertname": "FeatureDrift",
             "exp_alerts": [{"exp_labels": drift_labels, "exp_annotations": drift_annotations}]},
        ]}]}))
    tested = subprocess.run([promtool, "test", "rules", str(test)], capture_output=True, text=True, timeout=60)
    assert tested.returncode == 0, tested.stdout + tested.stderr
