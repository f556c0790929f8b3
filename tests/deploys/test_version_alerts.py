"""The unexpected-version decision, pure: which (model, version) traffic pages and what it says."""

from __future__ import annotations

from datetime import timedelta

from alerts.version_alerts import ALERTNAME, unexpected_version_candidates
from config.loader import parse_monitors
from config.monitors import Model
from store.deploy_reads import VersionTraffic
from tests.deploys.conftest import SHA

LOOKBACK = timedelta(minutes=15)


def model(name: str, expected: list | None = None, team: str | None = "payments-ml") -> Model:
    entry = {"name": name, "task": "regression", "features": [{"name": "x", "type": "numeric"}], "team": team}
    if expected is not None:
        entry["expected_versions"] = expected
    return parse_monitors({"version": 1, "models": [entry]}).models[0]


def test_traffic_from_a_version_outside_the_list_pages() -> None:
    models = [model("fraud", ["2.4.1", "2.5.0"]), model("churn")]
    traffic = [VersionTraffic("fraud", "2.4.1", 900, None), VersionTraffic("fraud", "2.6.0-rc1", 1234, SHA),
               VersionTraffic("churn", "anything", 50, None), VersionTraffic("gone", "v1", 5, None)]
    [candidate] = unexpected_version_candidates(models, traffic, LOOKBACK)
    assert candidate.active
    assert dict(candidate.labels) == {"alertname": ALERTNAME, "model": "fraud", "version": "2.6.0-rc1",
                                      "severity": "page", "team": "payments-ml"}
    assert candidate.annotations["summary"] == (
        f"fraud served 1,234 request(s) from version 2.6.0-rc1 in the last 15m; expected: 2.4.1, 2.5.0 "
        f"(artifact sha256 {SHA[:12]})")
    assert candidate.annotations["artifact_sha256"] == SHA
    assert candidate.annotations["expected_versions"] == "2.4.1, 2.5.0"


def test_each_unexpected_version_is_its_own_alert_and_an_unknown_artifact_is_left_out() -> None:
    traffic = [VersionTraffic("fraud", "v3", 2, None), VersionTraffic("fraud", "v4", 1, None),
               VersionTraffic("fraud", "v5", 0, None)]
    found = unexpected_version_candidates([model("fraud", ["v1"], team=None)], traffic, timedelta(hours=1))
    assert [c.labels["version"] for c in found] == ["v3", "v4"]
    assert "team" not in found[0].labels  # an empty label is absent, as in Alertmanager
    assert "artifact" not in found[0].annotations["summary"] and "artifact_sha256" not in found[0].annotations
    assert "in the last 1h;" in found[0].annotations["summary"]
    assert len({c.labels.fingerprint for c in found}) == 2


def test_yaml_numbers_are_versions_as_text() -> None:
    # `expected_versions: [2.5]` reads as a float in YAML; traffic reports "2.5".
    fraud = model("fraud", [2.5, "3"])
    assert unexpected_version_candidates([fraud], [VersionTraffic("fraud", "2.5", 10, None)], LOOKBACK) == []
    assert len(unexpected_version_candidates([fraud], [VersionTraffic("fraud", "2.50", 10, None)], LOOKBACK)) == 1


def test_no_expected_versions_means_any_version_is_fine() -> None:
    assert unexpected_version_candidates([model("fraud")], [VersionTraffic("fraud", "v9", 10, None)], LOOKBACK) == []
