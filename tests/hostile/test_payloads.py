"""Hostile payloads against the collector (in process, SQLite and PostgreSQL): huge strings,
deep nesting, NaN/inf, wrong encodings, SQL and script fragments. Each is either stored verbatim
as data (never executed, never altered) or rejected with a 4xx that says why — never a 5xx."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.collector.conftest import FRAUD, Collector, batch, fraud_record

SQL = "'); DROP TABLE predictions; --"
SQL2 = "\" OR 1=1; DELETE FROM labels WHERE ''='"
SCRIPT = "<script>alert(document.cookie)</script>"
ODD_TEXT = "e\u0301 \u202eRTL\u202c zero\u200bwidth \U0001F600 \\u0000-looking \\\\ backslashes"
HUGE = "x" * 2_000_000


@pytest.fixture
def hostile(engine: Engine, start_collector: Callable[..., Collector]) -> Collector:
    return start_collector(engine, max_body_bytes=8 * 1024 * 1024)


def post_raw(c: Collector, body: bytes, path: str = "/v1/predictions", content_type: str = "application/json") -> Any:
    return c.client.post(path, content=body, headers={**c.auth("ingest"), "Content-Type": content_type})


def stored(c: Collector, prediction_id: str) -> sa.Row:
    (row,) = c.rows("SELECT features, slices, error FROM predictions WHERE prediction_id = :p", p=prediction_id)
    return row


def as_dict(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str) else value


def test_sql_script_and_odd_text_are_stored_verbatim(hostile: Collector) -> None:
    records = [fraud_record(pid, features={"amount": 1.0, "payment_method": value, "shipping_note": SCRIPT},
                            slices={"channel": value}, error=value)
               for pid, value in (("sql-1", SQL), ("sql-2", SQL2), ("odd", ODD_TEXT))]
    records.append(fraud_record(SQL))  # as a prediction id too
    r = hostile.post("/v1/predictions", batch(records))
    assert r.status_code == 200 and r.json()["accepted"] == 4, r.text
    for pid, value in (("sql-1", SQL), ("sql-2", SQL2), ("odd", ODD_TEXT)):
        row = stored(hostile, pid)
        assert as_dict(row.features)["payment_method"] == value
        assert as_dict(row.slices)["channel"] == value and row.error == value
    assert stored(hostile, SQL)  # the id itself, as data
    label = hostile.post("/v1/labels", {"model": FRAUD, "records": [{"prediction_id": SQL2, "label": SQL}]})
    assert label.status_code == 200, label.text
    assert hostile.rows("SELECT label FROM labels WHERE prediction_id = :p", p=SQL2)[0].label == SQL
    # Nothing was executed: every table and row is still there.
    assert hostile.rows("SELECT count(*) AS n FROM predictions")[0].n == 4
    assert hostile.rows("SELECT count(*) AS n FROM labels")[0].n == 1


def test_read_endpoints_treat_sql_in_paths_and_queries_as_names(hostile: Collector) -> None:
    for path, params in ((f"/v1/models/{SQL}", {}), (f"/v1/models/{FRAUD}/drift", {"feature": SQL, "slice": SQL2}),
                         (f"/v1/models/{FRAUD}/summary", {"version": SQL}), (f"/v1/models/{SCRIPT}/quality", {})):
        r = hostile.client.get(path, params=params, headers=hostile.auth("read"))
        assert r.status_code in (200, 404, 422), (path, r.status_code, r.text)
        assert "<script>" not in r.headers.get("content-type", "") and r.headers["content-type"].startswith("application/json")
    assert hostile.rows("SELECT count(*) AS n FROM models")[0].n >= 1


def test_huge_strings_are_stored_whole_or_refused_by_size(hostile: Collector) -> None:
    r = hostile.post("/v1/predictions", batch([fraud_record("huge", features={"amount": 1.0, "payment_method": HUGE})]))
    assert r.status_code == 200, r.text[:300]
    assert len(as_dict(stored(hostile, "huge").features)["payment_method"]) == len(HUGE)
    # Over the body limit: 413 before the body is read whole.
    r = hostile.post("/v1/predictions", batch([fraud_record("huger", features={"payment_method": HUGE * 5})]))
    assert r.status_code == 413
    # Ids and model names have declared limits: named in the 422.
    r = hostile.post("/v1/predictions", batch([fraud_record("i" * 10_000)]))
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "prediction_id"
    r = hostile.post("/v1/predictions", batch([fraud_record("m")], model="m" * 10_000))
    assert 400 <= r.status_code < 500


@pytest.mark.parametrize("depth", [64, 5_000, 200_000])
def test_deep_nesting_is_a_clear_4xx_or_refuses_its_row(hostile: Collector, depth: int) -> None:
    nest = "[" * depth + "]" * depth
    inside = json.dumps(batch([fraud_record("deep", features={"amount": 1.0, "payment_method": "NEST"})]))
    for where, body in {"in a feature": inside.replace('"NEST"', nest),
                        "as the envelope": '{"model":' * depth + '"x"' + "}" * depth}.items():
        r = post_raw(hostile, body.encode())
        assert r.status_code in (400, 413, 422), (where, r.status_code, r.text[:200])
        assert r.json()["error"], where
    # A nested row among good ones: a parseable one is refused by its row number and the good
    # one stored; past the parser's depth limit the whole body is a 400 that says so.
    body = inside.replace('"NEST"', '"card"').replace('"records": [', '"records": [' + nest + ",", 1)
    r = post_raw(hostile, body.encode())
    if depth <= 64:
        assert r.status_code == 200 and r.json()["accepted"] == 1, r.text[:300]
        assert [p["row"] for p in r.json()["rejected"]] == [0]
        assert [row.prediction_id for row in hostile.rows("SELECT prediction_id FROM predictions")] == ["deep"]
    else:
        assert r.status_code == 400 and r.json()["error"] == "invalid JSON: nested too deeply"
        assert hostile.rows("SELECT count(*) AS n FROM predictions")[0].n == 0


def test_nan_is_missing_and_infinity_is_refused_per_row(hostile: Collector) -> None:
    body = json.dumps(batch([fraud_record("nan", score=0.25, features={"amount": 0.75}),
                             fraud_record("inf", latency_ms=0.5), fraud_record("ok")]))
    body = body.replace("0.25", "NaN").replace('"amount": 0.75', '"amount": NaN').replace('"latency_ms": 0.5', '"latency_ms": -Infinity')
    r = post_raw(hostile, body.encode())
    assert r.status_code == 200 and r.json()["accepted"] == 2, r.text
    assert r.json()["rejected"] == [{"row": 1, "field": "latency_ms", "error": "non-finite number (Infinity) is not allowed"}]
    (row,) = hostile.rows("SELECT score, features FROM predictions WHERE prediction_id = 'nan'")
    assert row.score is None and as_dict(row.features)["amount"] is None
    big = post_raw(hostile, json.dumps(batch([fraud_record("e400")])).replace('"amount": 12.5', '"amount": 1e400').encode())
    assert big.status_code == 422 and big.json()["detail"][0]["field"] == "features.amount"


@pytest.mark.parametrize("encoding, expected", [
    ("latin-1", 422),  # invalid UTF-8 inside a record: that row is refused, named by row
    ("utf-16", 400),  # with its BOM: not JSON text at all
    ("utf-8-sig", 400),  # UTF-8 with a BOM: RFC 8259 forbids it
    ("invalid-utf8", 422),
])
def test_wrong_encodings_are_a_clear_4xx(hostile: Collector, encoding: str, expected: int) -> None:
    text = json.dumps(batch([fraud_record("enc", features={"amount": 1.0, "payment_method": "Müller"})]), ensure_ascii=False)
    body = text.encode("utf-8").replace("ü".encode(), b"\xff\xfe") if encoding == "invalid-utf8" else text.encode(encoding)
    r = post_raw(hostile, body)
    assert r.status_code == expected, r.text
    assert "UTF-8" in r.text or "invalid JSON" in r.text
    assert hostile.rows("SELECT count(*) AS n FROM predictions")[0].n == 0
    # The same bytes as NDJSON: the line is refused, not the request parser.
    line = json.dumps(fraud_record("ndjson", features={"payment_method": "Müller"}), ensure_ascii=False).encode("latin-1")
    r = hostile.client.post("/v1/predictions", params={"model": FRAUD, "version": "v1"}, content=line,
                            headers={**hostile.auth("ingest"), "Content-Type": "application/x-ndjson"})
    assert r.status_code == 422 and "UTF-8" in r.text


def test_a_bad_encoding_row_does_not_poison_its_batch(hostile: Collector) -> None:
    good = json.dumps(fraud_record("good")).encode()
    bad = json.dumps(fraud_record("bad", features={"payment_method": "Müller"}), ensure_ascii=False).encode("latin-1")
    envelope = json.dumps({"model": FRAUD, "version": "v1", "batch_id": "b1", "records": []}).encode()
    body = envelope.replace(b'"records": []', b'"records": [' + good + b"," + bad + b"]")
    r = post_raw(hostile, body)
    assert r.status_code == 200 and r.json()["accepted"] == 1 and r.json()["rejected"][0]["row"] == 1, r.text


def test_script_in_a_silence_comment_is_stored_as_text(hostile: Collector) -> None:
    r = hostile.client.post("/v1/silences", headers=hostile.auth("admin"),
                            json={"matchers": [f'model="{FRAUD}"'], "author": SQL, "comment": SCRIPT, "duration": "1h"})
    assert r.status_code == 201, r.text
    listed = hostile.client.get("/v1/silences", headers=hostile.auth("admin")).json()["silences"][0]
    assert listed["comment"] == SCRIPT and listed["author"] == SQL
    for body in (b"{", b'{"matchers": 5}', "{\"comment\": \"M\u00fcller\"}".encode("latin-1")):
        r = hostile.client.post("/v1/silences", content=body, headers={**hostile.auth("admin"), "Content-Type": "application/json"})
        assert r.status_code == 422, r.text
