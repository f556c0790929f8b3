"""PII canaries: e-mail, phone and card numbers sent in features, slices, error text and field
names never reach the database; hashed fields are the keyed HMAC of the value."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging

import pytest
import sqlalchemy as sa

from tests.collector.conftest import FRAUD, PII_KEY, Collector, batch, fraud_record

EMAIL = "jane.canary@example.com"
PHONE = "+49 30 1234567"
CARD = "4111 1111 1111 1111"
CANARIES = (EMAIL, PHONE, CARD, "4111111111111111", "jane.canary")


def database_text(collector: Collector) -> str:
    """Every row of every table, as text."""
    out = []
    with collector.engine.connect() as conn:
        for table in sa.inspect(conn).get_table_names():
            for row in conn.execute(sa.text(f'SELECT * FROM "{table}"')):
                out.append(repr(tuple(row)))
    return "\n".join(out)


def hmac_of(value: str) -> str:
    return "hmac:" + hmac.new(PII_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


def test_canaries_never_reach_the_database_or_the_logs(any_collector: Collector, caplog: pytest.LogCaptureFixture) -> None:
    c = any_collector
    caplog.set_level(logging.DEBUG)
    records = [
        fraud_record("pii-1", features={"amount": 1.0, "customer_email": EMAIL, "shipping_note": f"ring {PHONE}",
                                        "payment_method": f"card {CARD}", "country": EMAIL},
                     slices={"channel": PHONE, "country": "DE"}, error=f"charge failed for {CARD} ({EMAIL})"),
        fraud_record("pii-2", features={"amount": 2.0, "payment_method": CARD, "channel": f"mail {EMAIL}"}),
        fraud_record("pii-3", features={"amount": 3.0, EMAIL: 1}),  # an e-mail as a field name
    ]
    r = c.post("/v1/predictions", batch(records))
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 2
    assert all(canary not in r.text for canary in CANARIES)  # the rejection names the field redacted
    assert r.json()["rejected"][0]["field"] == "features.[EMAIL]"
    stored = database_text(c)
    for canary in CANARIES:
        assert canary not in stored
        assert canary not in caplog.text
    assert "[EMAIL]" in stored and "[CARD]" in stored and "[PHONE]" in stored


def test_hash_field_is_the_keyed_hmac_and_mask_field_is_masked(collector: Collector) -> None:
    r = collector.post("/v1/predictions", batch([fraud_record("h", features={"customer_email": EMAIL, "shipping_note": "door 3"})]))
    assert r.json()["accepted"] == 1
    features = json.loads(collector.rows("SELECT features FROM predictions")[0].features)
    assert features["customer_email"] == hmac_of(EMAIL)
    assert features["shipping_note"] == "[MASKED]"


def test_values_hashed_by_the_sdk_are_not_hashed_again(collector: Collector) -> None:
    hashed = hmac_of(EMAIL)
    collector.post("/v1/predictions", batch([fraud_record("h", features={"customer_email": hashed})]))
    assert json.loads(collector.rows("SELECT features FROM predictions")[0].features)["customer_email"] == hashed


def test_without_a_key_hashed_fields_are_dropped(engine, start_collector) -> None:  # type: ignore[no-untyped-def]
    c = start_collector(engine, pii_key=None)
    c.post("/v1/predictions", batch([fraud_record("h", features={"customer_email": EMAIL})]))
    features = c.rows("SELECT features FROM predictions")[0].features
    features = features if isinstance(features, dict) else json.loads(features)
    assert "customer_email" not in features and features["shipping_note"] is None
    assert EMAIL not in database_text(c)


def test_reference_rows_are_redacted(collector: Collector) -> None:
    header = "amount,account_age_days,items_in_cart,hour_of_day,ip_risk_score,country,channel,payment_method,shipping_note,customer_email"
    line = f'1,2,3,4,0.5,DE,web,"{CARD}",hello,{EMAIL}'
    r = collector.client.post("/v1/references", params={"model": FRAUD}, content=f"{header}\n{line}\n",
                              headers=collector.auth() | {"content-type": "text/csv"})
    assert r.status_code == 201, r.text
    stored = database_text(collector)
    for canary in CANARIES:
        assert canary not in stored
    assert hmac_of(EMAIL) in stored
