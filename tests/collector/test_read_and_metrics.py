"""GET /v1/models, /v1/models/{name}/summary, /healthz, /readyz, /metrics."""

from __future__ import annotations

import time
from datetime import datetime, timezone

from prometheus_client.parser import text_string_to_metric_families

from tests.collector.conftest import FRAUD, PRICES, Collector, batch, fraud_record
from tests.collector.test_labels_counters import counters_body


def test_models_list_their_declared_schema(collector: Collector) -> None:
    r = collector.client.get("/v1/models", headers=collector.auth("read"))
    assert r.status_code == 200
    models = {m["name"]: m for m in r.json()["models"]}
    assert set(models) == {FRAUD, PRICES}
    fraud = models[FRAUD]
    assert fraud["task"] == "binary" and fraud["classes"] == ["0", "1"] and fraud["sampling_rate"] == 1.0
    assert fraud["slices"] == ["channel", "country"]
    assert {"name": "amount", "type": "numeric"}.items() <= fraud["features"][0].items()
    assert models[PRICES]["features"][0]["nullable"] is False
    one = collector.client.get(f"/v1/models/{PRICES}", headers=collector.auth("read")).json()
    assert one == models[PRICES]


def test_models_are_synced_into_the_catalog_at_startup(collector: Collector) -> None:
    rows = collector.rows("SELECT name, task FROM models ORDER BY name")
    assert [(r.name, r.task) for r in rows] == [(FRAUD, "binary"), (PRICES, "regression")]


def test_summary_counts_in_range(any_collector: Collector) -> None:
    c = any_collector
    now = time.time()
    records = [fraud_record(f"p{i}", timestamp=now - 60 * i) for i in range(5)]
    records.append(fraud_record("old", timestamp=now - 3 * 86400, version="v0"))
    c.post("/v1/predictions", batch(records))
    c.post("/v1/labels", {"model": FRAUD, "records": [{"prediction_id": "p1", "label": 1}]})
    c.post("/v1/counters", counters_body())
    r = c.client.get(f"/v1/models/{FRAUD}/summary", headers=c.auth("read"))
    assert r.status_code == 200, r.text
    s = r.json()
    assert (s["predictions"], s["labels"], s["requests"], s["errors"]) == (5, 1, 110, 2)
    assert s["dropped"] == {"buffer_full": 3} and s["versions"] == ["v1"]
    since = datetime.fromtimestamp(now - 4 * 86400, timezone.utc).isoformat()
    wide = c.client.get(f"/v1/models/{FRAUD}/summary", params={"from": since, "to": str(now + 60)},
                        headers=c.auth("read")).json()
    assert wide["predictions"] == 6 and wide["versions"] == ["v0", "v1"]
    empty = c.client.get(f"/v1/models/{PRICES}/summary", headers=c.auth("read")).json()
    assert (empty["predictions"], empty["requests"], empty["versions"]) == (0, 0, [])


def test_summary_rejects_bad_ranges(collector: Collector) -> None:
    h = collector.auth("read")
    assert collector.client.get(f"/v1/models/{FRAUD}/summary", params={"from": "soon"}, headers=h).status_code == 422
    r = collector.client.get(f"/v1/models/{FRAUD}/summary", params={"from": "200", "to": "100"}, headers=h)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "from"


def test_health_probes(collector: Collector) -> None:
    assert collector.client.get("/healthz").json() == {"status": "ok"}
    assert collector.client.get("/readyz").json() == {"status": "ready", "database": "ok"}


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def test_metrics_count_rows_by_kind_model_and_reason(collector: Collector) -> None:
    records = [fraud_record("a"), fraud_record("b"), fraud_record("c", features={"amount": "x"}),
               fraud_record("d", features={"nope": 1})]
    body = batch(records)
    collector.post("/v1/predictions", body)
    collector.post("/v1/predictions", body)
    collector.post("/v1/predictions", batch([fraud_record("e")], model="no-such-model-xyz"))
    r = collector.client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    s = _samples(r.text)
    assert s[("modelwatch_ingested_rows_total", (("kind", "predictions"), ("model", FRAUD)))] == 2
    assert s[("modelwatch_duplicate_rows_total", (("kind", "predictions"), ("model", FRAUD)))] == 2
    assert s[("modelwatch_rejected_rows_total", (("kind", "predictions"), ("model", FRAUD), ("reason", "invalid")))] == 2
    assert s[("modelwatch_rejected_rows_total", (("kind", "predictions"), ("model", FRAUD), ("reason", "unknown_field")))] == 2
    ok = (("method", "POST"), ("route", "/v1/predictions"), ("status", "2xx"))
    assert s[("modelwatch_request_duration_seconds_count", ok)] == 2
    assert s[("modelwatch_request_duration_seconds_count", (("method", "POST"), ("route", "/v1/predictions"), ("status", "4xx")))] == 1
    assert s[("modelwatch_request_body_bytes_count", (("route", "/v1/predictions"),))] == 3
    assert not any("no-such-model-xyz" in str(labels) for _, labels in s)  # no label from an unknown model name


def test_each_app_has_its_own_registry(collector: Collector, sqlite_engine, start_collector) -> None:  # type: ignore[no-untyped-def]
    collector.post("/v1/predictions", batch([fraud_record("a")]))
    other = start_collector(sqlite_engine)
    assert "modelwatch_ingested_rows_total{" not in other.client.get("/metrics").text
