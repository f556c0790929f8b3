"""NUL characters: PostgreSQL refuses them in text and jsonb, so one would fail its whole batch
(and every retry). The collector rejects the record naming the field; the rest is stored."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from collector.nul import NUL_KEY, NUL_VALUE, nul_problem
from tests.collector.conftest import FRAUD, Collector, batch, fraud_record
from tests.collector.test_labels_counters import counters_body

NUL = "\x00"


def test_nul_problem_names_the_first_field_holding_nul() -> None:
    assert nul_problem({"a": 1.0, "b": ["x", f"y{NUL}"]}) == ("b[1]", NUL_VALUE)
    assert nul_problem({"features": {"c": f"{NUL}"}}) == ("features.c", NUL_VALUE)
    assert nul_problem({"slices": {f"k{NUL}": "v"}}) == ("slices", NUL_KEY)
    assert nul_problem({"a": "no nul here", "b": None, "c": 0}) is None


@pytest.mark.parametrize("overrides, field", [
    ({"features": {"amount": 1.0, "country": f"D{NUL}E"}}, "features.country"),
    ({"prediction_id": f"p{NUL}"}, "prediction_id"),
    ({"error": f"boom{NUL}"}, "error"),
    ({"prediction": f"1{NUL}"}, "prediction"),
    ({"version": f"v{NUL}2"}, "version"),
    ({"slices": {"channel": f"web{NUL}"}}, "slices.channel"),
    ({"slices": {f"chan{NUL}nel": "web"}}, "slices"),
    ({"probabilities": {f"1{NUL}": 0.5}}, "probabilities"),
])
def test_a_record_with_nul_is_rejected_naming_the_field(any_collector: Collector, overrides: dict[str, Any],
                                                         field: str) -> None:
    records = [fraud_record("ok-0"), {**fraud_record("bad"), **overrides}, fraud_record("ok-2")]
    r = any_collector.post("/v1/predictions", batch(records))
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 2
    rejected = r.json()["rejected"]
    assert [(p["row"], p["field"]) for p in rejected] == [(1, field)]
    assert "NUL" in rejected[0]["error"]
    stored = any_collector.rows("SELECT prediction_id FROM predictions ORDER BY prediction_id")
    assert [row.prediction_id for row in stored] == ["ok-0", "ok-2"]


def test_nul_rows_count_in_the_rejection_metric(collector: Collector) -> None:
    collector.post("/v1/predictions", batch([fraud_record("ok"), fraud_record("bad", error=NUL)]))
    metrics = collector.client.get("/metrics").text
    assert 'reason="nul"' in metrics


def test_text_that_only_looks_like_the_escape_is_stored(any_collector: Collector) -> None:
    # A backslash followed by "u0000" is six ordinary characters, not NUL.
    note = "\\u0000 literally"
    r = any_collector.post("/v1/predictions", batch([fraud_record("lit", error=note)]))
    assert r.json() == {"accepted": 1, "duplicates": 0, "rejected": []}
    assert any_collector.rows("SELECT error FROM predictions")[0].error == note


def test_nul_in_the_batch_version_rejects_the_request(any_collector: Collector) -> None:
    r = any_collector.post("/v1/predictions", batch([fraud_record("a")], version=f"v{NUL}"))
    assert r.status_code == 422
    assert r.json()["detail"] == [{"row": None, "field": "version", "error": NUL_VALUE}]
    assert any_collector.rows("SELECT count(*) AS n FROM predictions")[0].n == 0


def test_nul_in_ndjson_and_in_the_nan_tolerant_path(collector: Collector) -> None:
    lines = [json.dumps(fraud_record("n0")), json.dumps(fraud_record("n1", error=NUL))]
    r = collector.client.post("/v1/predictions", content="\n".join(lines), params={"model": FRAUD, "version": "v1"},
                              headers=collector.auth() | {"content-type": "application/x-ndjson"})
    assert r.json()["accepted"] == 1 and r.json()["rejected"][0]["row"] == 1
    r = collector.client.post("/v1/predictions", params={"model": FRAUD, "version": f"v{NUL}"},
                              content=lines[0], headers=collector.auth() | {"content-type": "application/x-ndjson"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "version"
    text = json.dumps(batch([fraud_record("nan", score=float("nan")),
                             fraud_record("nul", features={"amount": float("nan"), "channel": NUL})]))
    r = collector.client.post("/v1/predictions", content=text, headers=collector.auth() | {"content-type": "application/json"})
    assert r.json()["accepted"] == 1
    assert [(p["row"], p["field"]) for p in r.json()["rejected"]] == [(1, "features.channel")]


def test_labels_and_counters_with_nul(any_collector: Collector) -> None:
    c = any_collector
    body = {"model": FRAUD, "batch_id": "l-nul", "records": [
        {"prediction_id": "p1", "label": "1", "timestamp": time.time()},
        {"prediction_id": "p2", "label": f"1{NUL}", "timestamp": time.time()},
    ]}
    r = c.post("/v1/labels", body)
    assert r.json()["accepted"] == 1
    assert [(p["row"], p["field"]) for p in r.json()["rejected"]] == [(1, "label")]
    r = c.post("/v1/counters", counters_body("c-nul", dropped={f"buffer{NUL}full": 1}))
    assert r.status_code == 422 and r.json()["detail"] == [{"row": None, "field": "dropped", "error": NUL_KEY}]
    r = c.post("/v1/counters", counters_body(f"c{NUL}"))
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "batch_id"
    assert c.rows("SELECT count(*) AS n FROM request_counters")[0].n == 0


def test_reference_cells_with_nul_are_rejected_naming_column_and_row(any_collector: Collector) -> None:
    header = "amount,account_age_days,items_in_cart,hour_of_day,ip_risk_score,country,channel,payment_method,shipping_note,customer_email"
    lines = ["1,2,3,4,0.5,DE,web,card,hello,", f"1,2,3,4,0.5,DE,web,card,he{NUL}llo,"]
    r = any_collector.client.post("/v1/references", params={"model": FRAUD}, content="\n".join([header, *lines]) + "\n",
                                  headers=any_collector.auth() | {"content-type": "text/csv"})
    assert r.status_code == 422, r.text
    assert r.json()["detail"] == [{"row": 1, "field": "shipping_note", "error": NUL_VALUE}]
