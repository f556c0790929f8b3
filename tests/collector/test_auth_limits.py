"""Tokens and scopes (401/403), and the request limits and errors (400/404/413/415/422)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from store.tokens import list_tokens, revoke_token
from tests.collector.conftest import FRAUD, Collector, batch, fraud_record

OPEN_PATHS = ["/healthz", "/readyz", "/metrics", "/docs", "/openapi.json"]


@pytest.mark.parametrize("path", OPEN_PATHS)
def test_probes_and_docs_answer_without_a_token(collector: Collector, path: str) -> None:
    assert collector.client.get(path).status_code == 200


@pytest.mark.parametrize("method, path", [
    ("post", "/v1/predictions"), ("post", "/v1/labels"), ("post", "/v1/counters"), ("post", "/v1/references"),
    ("get", "/v1/models"), ("get", f"/v1/models/{FRAUD}"), ("get", f"/v1/models/{FRAUD}/summary"),
])
def test_every_api_route_needs_a_token(collector: Collector, method: str, path: str) -> None:
    r = collector.client.request(method, path)
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert r.json()["error"] == "missing bearer token"


def test_unknown_and_malformed_tokens_are_401(collector: Collector) -> None:
    body = batch([fraud_record("a")])
    for header in ("Bearer mw_not-a-real-token", "Bearer xyz", "Basic dXNlcjpwYXNz"):
        r = collector.client.post("/v1/predictions", json=body, headers={"Authorization": header})
        assert r.status_code == 401, header
    assert collector.rows("SELECT count(*) AS n FROM predictions")[0].n == 0


def test_wrong_scope_is_403_and_admin_implies_all(collector: Collector) -> None:
    body = batch([fraud_record("a")])
    assert collector.post("/v1/predictions", body, scope="read").status_code == 403
    assert collector.client.get("/v1/models", headers=collector.auth("ingest")).status_code == 403
    assert collector.client.get("/v1/models", headers=collector.auth("read")).status_code == 200
    assert collector.post("/v1/predictions", body, scope="admin").status_code == 200
    assert collector.client.get("/v1/models", headers=collector.auth("admin")).status_code == 200


def test_revoked_token_is_refused_once_the_cache_expires(collector: Collector) -> None:
    body = batch([fraud_record("a")])
    assert collector.post("/v1/predictions", body).status_code == 200
    token_id = next(t.id for t in list_tokens(collector.engine) if t.name == "test-ingest")
    assert revoke_token(collector.engine, token_id)
    state = collector.client.app.state.collector  # type: ignore[attr-defined]
    state.tokens.ttl = 0.0
    state.tokens._entries.clear()
    assert collector.post("/v1/predictions", body).status_code == 401


def test_unknown_model_is_404(collector: Collector) -> None:
    r = collector.post("/v1/predictions", batch([fraud_record("a")], model="no-such-model"))
    assert r.status_code == 404
    assert "no-such-model" in r.json()["error"]
    assert collector.client.get("/v1/models/nope", headers=collector.auth("read")).status_code == 404


def test_body_over_the_limit_is_413_by_content_length(collector: Collector) -> None:
    records = [fraud_record(f"p{i}", error="x" * 1000) for i in range(300)]  # > 256 KiB
    r = collector.post("/v1/predictions", batch(records))
    assert r.status_code == 413
    assert "limit" in r.json()["error"]


def test_body_over_the_limit_is_413_while_streaming(collector: Collector) -> None:
    """No Content-Length (chunked upload): the cap applies while reading."""
    def chunks() -> Iterator[bytes]:
        yield b'{"model": "fraud-detector", "records": ['
        for _ in range(400):
            yield json.dumps(fraud_record("x", error="y" * 1000)).encode() + b","
        yield b"{}]}"

    r = collector.client.post("/v1/predictions", content=chunks(),
                              headers=collector.auth() | {"content-type": "application/json"})
    assert r.status_code == 413


def test_gzip_bomb_is_413(collector: Collector) -> None:
    import gzip

    bomb = gzip.compress(b'{"model": "fraud-detector", "records": [' + b" " * (2 * 1024 * 1024) + b"]}")
    r = collector.client.post("/v1/predictions", content=bomb, headers=collector.auth() | {
        "content-type": "application/json", "content-encoding": "gzip"})
    assert len(bomb) < 256 * 1024 and r.status_code == 413


def test_too_many_records_is_413(collector: Collector) -> None:
    r = collector.post("/v1/predictions", batch([{"prediction_id": str(i), "features": {}} for i in range(501)]))
    assert r.status_code == 413
    assert "501 records" in r.json()["error"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", ""])
def test_wrong_content_type_is_415(collector: Collector, content_type: str) -> None:
    r = collector.client.post("/v1/predictions", content=json.dumps(batch([fraud_record("a")])),
                              headers=collector.auth() | {"content-type": content_type})
    assert r.status_code == 415


def test_unknown_content_encoding_is_415(collector: Collector) -> None:
    r = collector.client.post("/v1/predictions", content=b"{}", headers=collector.auth() | {
        "content-type": "application/json", "content-encoding": "br"})
    assert r.status_code == 415


@pytest.mark.parametrize("body", [b"{", b"not json", b'{"model": "fraud-detector", "records": [}', b""])
def test_invalid_json_is_400(collector: Collector, body: bytes) -> None:
    r = collector.client.post("/v1/predictions", content=body,
                              headers=collector.auth() | {"content-type": "application/json"})
    assert r.status_code == 400
    assert r.json()["error"].startswith("invalid JSON")


@pytest.mark.parametrize("body, field", [
    ({"records": []}, "model"),
    ({"model": 5, "records": []}, "model"),
    ({"model": FRAUD, "records": {"a": 1}}, "records"),
    ({"model": FRAUD}, "records"),
    ([1, 2], ""),
])
def test_invalid_envelope_is_422_naming_the_field(collector: Collector, body: object, field: str) -> None:
    r = collector.post("/v1/predictions", body)
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["field"] == field
    assert r.json()["detail"][0]["row"] is None


def test_openapi_documents_the_bodies(collector: Collector) -> None:
    doc = collector.client.get("/openapi.json").json()
    assert {"PredictionBatch", "ColumnarPredictionBatch", "PackedColumn"} <= set(doc["components"]["schemas"])
    assert doc["paths"]["/v1/predictions"]["post"]["requestBody"]["content"]["application/json"]["schema"] == {
        "oneOf": [{"$ref": "#/components/schemas/PredictionBatch"},
                  {"$ref": "#/components/schemas/ColumnarPredictionBatch"}]}
    assert "multipart/form-data" in doc["paths"]["/v1/references"]["post"]["requestBody"]["content"]


def test_unexpected_errors_answer_500_without_logging_their_message(
        collector: Collector, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """A fault we cannot cause for real: a store bug whose message quotes a value."""
    from collector import ingest

    def broken(*_args: object) -> None:
        raise ValueError("row value jane@example.com")

    monkeypatch.setattr(ingest, "write_predictions", broken)
    r = collector.post("/v1/predictions", batch([fraud_record("a")]))
    assert r.status_code == 500
    assert r.json() == {"error": "internal error", "detail": []}
    assert "unhandled ValueError" in caplog.text
    assert "jane@example.com" not in caplog.text
