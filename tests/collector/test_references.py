"""POST /v1/references: CSV and Parquet baselines, validated, stored with sha256 and n_rows."""

from __future__ import annotations

import hashlib
import io

import pandas as pd
import pytest

from store.catalog import get_reference, get_reference_rows
from tests.collector.conftest import FRAUD, PRICES, Collector


def prices_frame(n: int = 4) -> pd.DataFrame:
    return pd.DataFrame({
        "sq-ft": [50.0 + i for i in range(n)],
        "rooms": [float(i % 3 + 1) for i in range(n)],
        "city": ["berlin", "paris", None, "berlin"][:n] + ["paris"] * max(0, n - 4),
        "class": ["a", "b", "c", "d"][:n] + ["e"] * max(0, n - 4),
        "prediction": [100.0 * i for i in range(n)],
        "label": [101.0 * i for i in range(n)],
    })


def upload(c: Collector, data: bytes, filename: str, scope: str = "ingest", **form: str) -> object:
    fields = {"model": PRICES, **form}
    return c.client.post("/v1/references", files={"file": (filename, data)}, data=fields, headers=c.auth(scope))


def test_csv_upload_is_stored_with_sha256_and_rows(any_collector: Collector) -> None:
    c = any_collector
    data = prices_frame().to_csv(index=False).encode()
    r = upload(c, data, "baseline.csv")
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["model"], body["name"], body["n_rows"], body["replaced"]) == (PRICES, "default", 4, False)
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    rows = get_reference_rows(c.engine, PRICES)
    assert [r.row for r in rows] == [0, 1, 2, 3]
    assert rows[2].features == {"sq-ft": 52.0, "rooms": 3.0, "city": None, "class": "c"}
    assert (rows[1].prediction, rows[1].label, rows[1].score) == ("100.0", "101.0", None)


def test_parquet_upload_and_named_reference(any_collector: Collector) -> None:
    c = any_collector
    buffer = io.BytesIO()
    prices_frame(10).to_parquet(buffer)
    r = upload(c, buffer.getvalue(), "baseline.parquet", name="training-2026")
    assert r.status_code == 201, r.text
    info = get_reference(c.engine, PRICES, "training-2026")
    assert info is not None and info.n_rows == 10
    assert get_reference(c.engine, PRICES) is None


def test_same_name_is_409_unless_replace_with_admin(collector: Collector) -> None:
    data = prices_frame().to_csv(index=False).encode()
    assert upload(collector, data, "a.csv").status_code == 201
    again = upload(collector, data, "a.csv")
    assert again.status_code == 409
    assert "replace=true" in again.json()["error"]
    assert upload(collector, data, "a.csv", replace="true").status_code == 403  # ingest scope only
    smaller = prices_frame(2).to_csv(index=False).encode()
    replaced = upload(collector, smaller, "a.csv", scope="admin", replace="true")
    assert replaced.status_code == 200 and replaced.json()["replaced"] is True
    assert len(get_reference_rows(collector.engine, PRICES)) == 2
    actions = [row.action for row in collector.rows("SELECT action FROM audit_log WHERE action LIKE 'reference%' ORDER BY id")]
    assert actions == ["reference.create", "reference.replace"]


def test_raw_csv_body_with_query_parameters(collector: Collector) -> None:
    data = prices_frame().to_csv(index=False)
    r = collector.client.post("/v1/references", params={"model": PRICES, "name": "raw"}, content=data,
                              headers=collector.auth() | {"content-type": "text/csv"})
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "raw"


@pytest.mark.parametrize("frame_change, problem", [
    (lambda f: f.assign(colour="red"), (None, "colour")),
    (lambda f: f.drop(columns=["rooms"]), (None, "rooms")),
    (lambda f: f.assign(rooms=["1", "2", "three", "4"]), (2, "rooms")),
    (lambda f: f.assign(rooms=[1.0, float("inf"), 2.0, 3.0]), (1, "rooms")),
    (lambda f: f.assign(**{"sq-ft": [1.0, None, 2.0, 3.0]}), (1, "sq-ft")),
])
def test_schema_mismatch_is_422_naming_column_and_row(collector: Collector, frame_change, problem) -> None:  # type: ignore[no-untyped-def]
    data = frame_change(prices_frame()).to_csv(index=False).encode()
    r = upload(collector, data, "bad.csv")
    assert r.status_code == 422, r.text
    assert (r.json()["detail"][0]["row"], r.json()["detail"][0]["field"]) == problem
    assert get_reference(collector.engine, PRICES) is None


def test_csv_keeps_codes_that_look_like_missing_values(collector: Collector) -> None:
    header = "amount,account_age_days,items_in_cart,hour_of_day,ip_risk_score,country,channel,payment_method,shipping_note,customer_email,label"
    r = collector.client.post("/v1/references", params={"model": FRAUD}, content=f"{header}\n1,NaN,,,,NA,web,007,,,1\n",
                              headers=collector.auth() | {"content-type": "text/csv"})
    assert r.status_code == 201, r.text
    row = get_reference_rows(collector.engine, FRAUD)[0]
    assert row.features["country"] == "NA" and row.features["payment_method"] == "007"
    assert row.features["account_age_days"] is None and row.label == "1"


def test_unreadable_file_and_missing_file(collector: Collector) -> None:
    r = upload(collector, b"PAR1 this is not parquet", "x.parquet")
    assert r.status_code == 400
    r = collector.client.post("/v1/references", data={"model": PRICES}, files={"other": ("", b"")},
                              headers=collector.auth())
    assert r.status_code in (400, 422)
    r = collector.client.post("/v1/references", params={"model": PRICES}, content=b"{}",
                              headers=collector.auth() | {"content-type": "application/json"})
    assert r.status_code == 415
