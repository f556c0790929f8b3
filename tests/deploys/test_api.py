"""POST /v1/deploys and GET /v1/models/{name}/deploys on a real app over SQLite and PostgreSQL:
what is stored (deploys, model_versions, audit_log, in one go), every refused input, scopes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from store import schema
from tests.collector.conftest import FRAUD, Collector
from tests.deploys.conftest import SHA

T1 = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def deploy(c: Collector, scope: str = "ingest", **body: Any) -> Any:
    return c.post("/v1/deploys", {"model": FRAUD, "version": "2.5.0", **body}, scope=scope)


def stored(c: Collector) -> tuple[int, int, int]:
    """(deploys rows, model_versions rows, deploy audit rows)."""
    return (c.rows("SELECT count(*) AS n FROM deploys")[0].n, c.rows("SELECT count(*) AS n FROM model_versions")[0].n,
            c.rows("SELECT count(*) AS n FROM audit_log WHERE action = 'deploy.record'")[0].n)


def test_a_deploy_is_stored_with_its_version_and_audited(any_collector: Collector) -> None:
    c = any_collector
    response = deploy(c, artifact_sha256=SHA.upper(), note="threshold 0.8 -> 0.75", time="2026-03-01T13:00:00+01:00")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body == {"id": body["id"], "time": "2026-03-01T12:00:00+00:00", "model": FRAUD, "version": "2.5.0",
                    "source": "api", "artifact_sha256": SHA, "note": "threshold 0.8 -> 0.75", "actor": "token:test-ingest"}
    row = c.rows("SELECT * FROM deploys")[0]
    assert (row.model, row.version, row.source, row.artifact_sha256, row.actor) == (FRAUD, "2.5.0", "api", SHA, "token:test-ingest")
    version = c.rows("SELECT * FROM model_versions")[0]
    assert (version.version, version.artifact_sha256, version.note) == ("2.5.0", SHA, "threshold 0.8 -> 0.75")
    audit = c.rows("SELECT actor, target, details FROM audit_log WHERE action = 'deploy.record'")
    assert len(audit) == 1 and audit[0].actor == "token:test-ingest" and audit[0].target == f"model:{FRAUD}"
    assert "threshold" not in str(audit[0].details)  # the note's length is audited, not its words

    listed = c.client.get(f"/v1/models/{FRAUD}/deploys", params={"from": "2026-03-01T00:00:00Z", "to": "2026-03-02T00:00:00Z"},
                          headers=c.auth("read"))
    assert listed.status_code == 200 and listed.json()["deploys"] == [body]


def test_model_versions_keeps_the_latest_deploy(any_collector: Collector) -> None:
    c = any_collector
    assert deploy(c, time=T1.isoformat(), artifact_sha256=SHA, note="first").status_code == 201
    # A redeploy without artifact or note keeps both; a late record of an older deploy does not move it back.
    assert deploy(c, scope="admin", time=(T1 + timedelta(hours=2)).isoformat()).status_code == 201
    assert deploy(c, time=(T1 - timedelta(days=1)).isoformat(), note="old").status_code == 201
    with c.engine.connect() as conn:  # typed: times come back aware on both dialects
        version = conn.execute(sa.select(schema.model_versions)).one()
    assert version.artifact_sha256 == SHA and version.note == "first"
    assert version.deployed_at == T1 + timedelta(hours=2) and version.first_seen == T1
    assert stored(c) == (3, 1, 3)
    listed = c.client.get(f"/v1/models/{FRAUD}/deploys", params={"from": "2026-02-01T00:00:00Z", "to": "2026-04-01T00:00:00Z"},
                          headers=c.auth("admin")).json()["deploys"]
    assert [d["time"] for d in listed] == [(T1 + timedelta(hours=2)).isoformat(), T1.isoformat(),
                                           (T1 - timedelta(days=1)).isoformat()]
    assert [d["actor"] for d in listed] == ["token:test-admin", "token:test-ingest", "token:test-ingest"]


def _future() -> str:
    return (datetime.now(timezone.utc) + timedelta(minutes=30)).isoformat()


BAD = [
    ({"model": "no-such-model"}, "model", "not declared"),
    ({"version": "2.5.0 beta"}, "version", "must match"),
    ({"version": ""}, "version", "must match"),
    ({"version": "v" * 129}, "version", "must match"),
    ({"version": "v1\n"}, "version", "must match"),
    ({"artifact_sha256": SHA + "\n"}, "artifact_sha256", "64 hexadecimal"),
    ({"artifact_sha256": SHA[:63]}, "artifact_sha256", "64 hexadecimal"),
    ({"artifact_sha256": "g" * 64}, "artifact_sha256", "64 hexadecimal"),
    ({"time": "2026-03-01T12:00:00"}, "time", "timezone"),
    ({"time": "yesterday"}, "time", "datetime"),
    ({"time": "0001-01-01T00:30:00+01:00"}, "time", "before 1970"),
    ({"note": "a\x00b"}, "note", "NUL"),
    ({"note": "x" * 4097}, "note", "4096"),
    ({"replicas": 3}, "replicas", "Extra inputs"),
]


@pytest.mark.parametrize(("change", "field", "words"), BAD, ids=[f"{b[1]}-{i}" for i, b in enumerate(BAD)])
def test_bad_input_is_refused_naming_the_field(any_collector: Collector, change: dict, field: str, words: str) -> None:
    response = deploy(any_collector, **change)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "invalid deploy"
    assert any(p["field"] == field and words in p["error"] for p in body["detail"]), body
    assert stored(any_collector) == (0, 0, 0)


def test_future_time_beyond_the_skew_is_refused(collector: Collector) -> None:
    response = deploy(collector, time=_future())
    assert response.status_code == 422 and response.json()["detail"][0]["field"] == "time"
    assert "in the future" in response.json()["detail"][0]["error"]
    near = (datetime.now(timezone.utc) + timedelta(minutes=1)).isoformat()
    assert deploy(collector, time=near).status_code == 201  # clock skew, not a mistake


def test_malformed_and_missing_bodies(collector: Collector) -> None:
    bad_json = collector.client.post("/v1/deploys", content=b"{", headers=collector.auth())
    assert bad_json.status_code == 422 and bad_json.json()["detail"][0]["field"] == "deploy"
    missing = collector.post("/v1/deploys", {"model": FRAUD})
    assert missing.status_code == 422 and missing.json()["detail"][0]["field"] == "version"
    assert stored(collector) == (0, 0, 0)


def test_scopes(any_collector: Collector) -> None:
    c = any_collector
    assert c.client.post("/v1/deploys", json={"model": FRAUD, "version": "v1"}).status_code == 401
    # A read token may see deploys but not record one; the body is not even looked at.
    refused = c.client.post("/v1/deploys", content=b"{", headers=c.auth("read"))
    assert refused.status_code == 403 and "'ingest' scope" in refused.json()["error"]
    assert deploy(c, scope="ingest").status_code == 201
    assert deploy(c, scope="admin").status_code == 201
    path = f"/v1/models/{FRAUD}/deploys"
    assert c.client.get(path).status_code == 401
    assert c.client.get(path, headers=c.auth("ingest")).status_code == 403
    assert len(c.client.get(path, headers=c.auth("read")).json()["deploys"]) == 2


def test_listing_an_unknown_model_or_a_bad_range(collector: Collector) -> None:
    read = collector.auth("read")
    unknown = collector.client.get("/v1/models/nope/deploys", headers=read)
    assert unknown.status_code == 404 and "not declared" in unknown.json()["error"]
    backwards = collector.client.get(f"/v1/models/{FRAUD}/deploys", params={"from": "2026-03-02T00:00:00Z",
                                                                            "to": "2026-03-01T00:00:00Z"}, headers=read)
    assert backwards.status_code == 422 and backwards.json()["detail"][0]["field"] == "from"
    empty = collector.client.get(f"/v1/models/{FRAUD}/deploys", headers=read).json()
    assert empty["model"] == FRAUD and empty["deploys"] == []


def test_the_openapi_document_describes_both_routes(collector: Collector) -> None:
    paths = collector.client.get("/openapi.json").json()["paths"]
    body = paths["/v1/deploys"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["model", "version"] and body["additionalProperties"] is False
    assert body["properties"]["artifact_sha256"]["anyOf"][0]["pattern"] == "^[0-9a-fA-F]{64}$"
    assert {p["name"] for p in paths["/v1/models/{name}/deploys"]["get"]["parameters"]} == {"name", "from", "to"}
