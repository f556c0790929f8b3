"""Retrain triggers where people look: GET /v1/models/{name}/retrain-triggers (read scope) and the
dashboard's alerts page, both over a store the real cycle and worker filled."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from collector.app import create_app
from config.monitors import Monitors
from store.tokens import create_token
from tests.alerts.servers import CaptureServer
from tests.collector.conftest import make_settings
from tests.dashboard.conftest import open_page  # noqa: F401 (fixture)
from tests.retrain.conftest import T0, H, Simulation, drift_value, make_monitors, seed_window

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def filled(sqlite_engine: Engine, retrain_server: CaptureServer, slack_server: CaptureServer) -> Simulation:
    """Fraud's amount drifts for 4.5 hours (cooldown 4 h): triggers at 00:05 and 04:05, a hold at 00:35."""
    sim = Simulation(sqlite_engine, make_monitors(retrain_server.url, slack_server.url), slack_server)
    now = T0
    while now < T0 + 4 * H + timedelta(minutes=30):
        if (now - T0) % H == timedelta(0):
            seed_window(sqlite_engine, "fraud", "amount", now, True)
        sim.step(now)
        now += timedelta(minutes=5)
    assert len(retrain_server.requests) == 2
    return sim


def serve(engine: Engine, monitors: Monitors) -> Iterator[tuple[TestClient, dict[str, str]]]:
    with TestClient(create_app(make_settings(), engine=engine, monitors=monitors)) as client:
        tokens = {scope: create_token(engine, [scope], f"test-{scope}") for scope in ("read", "ingest")}
        yield client, {scope: f"Bearer {token}" for scope, token in tokens.items()}


@pytest.fixture
def api(filled: Simulation) -> Iterator[tuple[TestClient, dict[str, str]]]:
    yield from serve(filled.engine, filled.monitors)


@pytest.fixture
def empty_api(sqlite_engine: Engine) -> Iterator[tuple[TestClient, dict[str, str]]]:
    yield from serve(sqlite_engine, make_monitors("http://127.0.0.1:9", "http://127.0.0.1:9"))


def test_api_lists_sent_and_held_triggers_newest_first(api: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = api
    window = {"from": T0.isoformat(), "to": (T0 + 6 * H).isoformat()}
    body = client.get("/v1/models/fraud/retrain-triggers", params=window, headers={"Authorization": auth["read"]}).json()
    assert [(t["status"], t["time"]) for t in body["triggers"]] == [
        ("sent", (T0 + 4 * H + timedelta(minutes=5)).isoformat()), ("cooldown", (T0 + timedelta(minutes=35)).isoformat()),
        ("sent", (T0 + timedelta(minutes=5)).isoformat())]
    newest = body["triggers"][0]
    assert newest["delivery"] == "sent" and newest["receiver"] == "retrain" and newest["alertnames"] == ["FeatureDrift"]
    assert newest["version"] == "v3" and newest["sent_in_last_24h"] == 2
    assert [(a["feature"], a["value"]) for a in newest["alerts"]] == [("amount", drift_value("fraud", "amount", 4))]
    assert body["triggers"][1]["delivery"] is None and body["truncated"] is False
    only_sent = client.get("/v1/models/fraud/retrain-triggers", params={**window, "status": "sent", "limit": 1},
                           headers={"Authorization": auth["read"]}).json()
    assert [t["id"] for t in only_sent["triggers"]] == [newest["id"]] and only_sent["truncated"] is True
    churn = client.get("/v1/models/churn/retrain-triggers", params=window, headers={"Authorization": auth["read"]})
    assert churn.status_code == 200 and churn.json()["triggers"] == []


@pytest.mark.parametrize(("path", "params", "token", "status", "says"), [
    ("/v1/models/nope/retrain-triggers", {}, "read", 404, "unknown model"),
    ("/v1/models/fraud/retrain-triggers", {}, None, 401, "missing bearer token"),
    ("/v1/models/fraud/retrain-triggers", {}, "ingest", 403, "read"),
    ("/v1/models/fraud/retrain-triggers", {"status": "maybe"}, "read", 422, "status"),
    ("/v1/models/fraud/retrain-triggers", {"from": "yesterday"}, "read", 422, "from"),
    ("/v1/models/fraud/retrain-triggers", {"limit": 0}, "read", 422, "limit"),
])
def test_api_refuses_bad_requests_with_the_reason(empty_api: tuple[TestClient, dict[str, str]], path: str,
                                                  params: dict, token: str | None, status: int, says: str) -> None:
    client, auth = empty_api
    response = client.get(path, params=params, headers={"Authorization": auth[token]} if token else {})
    assert response.status_code == status and says in response.text


def test_alerts_page_shows_the_triggers(filled: Simulation, tmp_path: Path, open_page: Callable[..., object]) -> None:  # noqa: F811
    config = tmp_path / "monitors.yaml"
    config.write_text(yaml.safe_dump(filled.monitors.model_dump(mode="json", by_alias=True, exclude_none=True)))
    url = filled.engine.url.render_as_string(hide_password=False)
    at = open_page(None, "alerts", url=url, config=config, model="fraud",
                   **{"from": "2025-03-01T00:00:00Z", "to": "2025-03-01T06:00:00Z"})
    table = next(d.value for d in at.dataframe if "24 h count" in d.value.columns)  # type: ignore[attr-defined]
    assert list(table["status"]) == ["sent", "cooldown", "sent"]
    assert list(table["time"]) == ["2025-03-01 04:05 UTC", "2025-03-01 00:35 UTC", "2025-03-01 00:05 UTC"]
    assert table["alerts"][0] == f"FeatureDrift amount (psi {drift_value('fraud', 'amount', 4):.3g})"
    assert list(table["delivery"]) == ["sent", "", "sent"]
    assert list(table["next allowed"])[0] == "2025-03-01 08:05 UTC"
    assert any("2 retrain webhook(s) called, 1 held back" in c.value for c in at.caption)  # type: ignore[attr-defined]
