"""Issue 8 part 2: two versions send traffic through the SDK to a real collector over HTTP; the
canary has a higher error rate and a lower accuracy by construction (seeded) -> the API and the
CLI both say roll back, with the numbers; an equal canary is never rolled back."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from modelwatch.cli import main
from store.tokens import create_token
from tests.canary.conftest import MODEL, Sent, reference_csv, serve
from tests.integration.conftest import CollectorProcess

pytestmark = pytest.mark.timeout(300)


def _get(collector: CollectorProcess, token: str, **params: str) -> httpx.Response:
    return httpx.get(f"{collector.url}/v1/models/{MODEL}/canary", params=params, timeout=60,
                     headers={"Authorization": f"Bearer {token}"})


def _upload_reference(collector: CollectorProcess, token: str) -> None:
    response = httpx.post(f"{collector.url}/v1/references", params={"model": MODEL}, content=reference_csv(),
                          headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"}, timeout=60)
    assert response.status_code == 201, response.text


def _cli(capsys: pytest.CaptureFixture[str], database_url: str, config: Path, *flags: str) -> str:
    assert main(["canary", "report", "--model", MODEL, "--db", database_url, "--config", str(config), *flags]) == 0
    return capsys.readouterr().out


def _counts(sent: Sent) -> str:
    return f"({sent.errors} of {sent.requests} requests)"


def test_worse_canary_is_rolled_back_by_api_and_cli(collector: CollectorProcess, token: str, database_url: str,
                                                    config_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _upload_reference(collector, token)
    stable = serve(collector.url, token, "2.4.1", requests=1500, error_rate=0.01, accuracy=0.92, seed=11)
    canary = serve(collector.url, token, "2.5.0", requests=1500, error_rate=0.06, accuracy=0.78, seed=12)
    assert canary.errors > 3 * stable.errors and canary.accuracy < stable.accuracy - 0.08  # by construction

    response = _get(collector, token)
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["stable"], report["canary"], report["stable_chosen_by"]) == (
        "2.4.1", "2.5.0", "the version that served first")
    verdict, comparison = report["verdict"], report["comparison"]
    assert verdict["decision"] == "rollback"
    # the exact counters, as the serving code counted them
    assert (comparison["stable"]["requests"], comparison["stable"]["errors"]) == (stable.requests, stable.errors)
    assert (comparison["canary"]["requests"], comparison["canary"]["errors"]) == (canary.requests, canary.errors)
    quality = comparison["quality"]
    assert (quality["labelled_stable"], quality["labelled_canary"]) == (stable.labelled, canary.labelled)
    assert quality["stable"] == pytest.approx(stable.accuracy) and quality["canary"] == pytest.approx(canary.accuracy)
    error_reason, accuracy_reason = verdict["reasons"]
    assert error_reason.startswith(f"error rate {100 * canary.errors / canary.requests:.1f}% {_counts(canary)} vs "
                                   f"stable {100 * stable.errors / stable.requests:.1f}% ({stable.errors} of "
                                   f"{stable.requests})")
    assert error_reason.endswith("worse by more than the +0.5 pp allowed")
    assert accuracy_reason.startswith(f"accuracy {100 * canary.accuracy:.1f}% vs stable {100 * stable.accuracy:.1f}% "
                                      f"on {canary.labelled} vs {stable.labelled} labelled predictions")
    assert "q < 0.001" in error_reason and "q < 0.001" in accuracy_reason
    # every successful call carried its latency (the SDK leaves failed calls out of the histogram)
    assert comparison["latency"]["stable"]["n"] == stable.requests - stable.errors
    assert report["reference"] == "default" and [d["version"] for d in comparison["drift"]] == ["2.4.1", "2.5.0"]
    assert {p["column"] for p in comparison["predictions"]} == {"prediction", "score"}

    text = _cli(capsys, database_url, config_path)
    assert "ROLL BACK the canary" in text
    assert _counts(canary) in text and f"on {canary.labelled} vs {stable.labelled} labelled predictions" in text

    # the same window through both: the same report
    window = {"from": (datetime.now(timezone.utc) - timedelta(minutes=30)).isoformat(),
              "to": (datetime.now(timezone.utc) + timedelta(minutes=1)).isoformat()}
    cli_json = json.loads(_cli(capsys, database_url, config_path, "--json", "--from", window["from"], "--to", window["to"]))
    assert cli_json == _get(collector, token, **window).json()


def test_equal_canary_is_never_rolled_back(collector: CollectorProcess, token: str, store, database_url: str,
                                           config_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stable = serve(collector.url, token, "v1", requests=1500, error_rate=0.01, accuracy=0.9, seed=3)
    canary = serve(collector.url, token, "v2", requests=1500, error_rate=0.01, accuracy=0.9, seed=4)
    report = _get(collector, token).json()
    assert report["comparison"]["canary"]["requests"] == canary.requests
    assert report["comparison"]["stable"]["errors"] == stable.errors
    assert report["verdict"]["decision"] in ("promote", "keep_watching")
    assert not any(g["worse"] and g["beyond_margin"] and g["q_value"] < 0.05 for g in report["verdict"]["guards"])
    assert "no reference" not in json.dumps(report) and report["reference"] is None
    assert "ROLL BACK" not in _cli(capsys, database_url, config_path)

    # the route's refusals, in the collector's error shape
    ingest_only = create_token(store, ["ingest"], "writer")
    assert _get(collector, ingest_only).status_code == 403
    assert httpx.get(f"{collector.url}/v1/models/{MODEL}/canary", timeout=10).status_code == 401
    missing = _get(collector, token, canary="v9")
    assert missing.status_code == 404
    assert missing.json()["error"] == ("canary version 'v9' served no traffic in the window (versions serving: v1, v2)")
    same = _get(collector, token, stable="v1", canary="v1")
    assert same.status_code == 422 and same.json()["detail"][0]["field"] == "canary"
    past = _get(collector, token, **{"from": "2020-01-01T00:00:00Z", "to": "2020-01-01T01:00:00Z"})
    assert past.status_code == 404 and "a canary needs two versions serving in the window; none served" in past.text
    assert httpx.get(f"{collector.url}/v1/models/nope/canary", headers={"Authorization": f"Bearer {token}"},
                     timeout=10).status_code == 404
