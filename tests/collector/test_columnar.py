"""Columnar prediction batches (docs/protocol.md): a columnar batch stores exactly what the
records batch with the same rows stores, on SQLite and PostgreSQL; bad rows are named the same
way; malformed columns get a 4xx naming the column.

The columnar bodies here are built by a small encoder written from the spec, independent of
the SDK's (modelwatch.columnar), so the two sides are checked against the document, not each other.
"""

from __future__ import annotations

import base64
import math
import random
import time
from array import array
from datetime import datetime, timezone
from typing import Any

import msgspec
import pytest

from collector import columnar
from collector.validate import TimeBounds
from tests.collector.conftest import FRAUD, PRICES, Collector, batch, fraud_record

FEATURES = ("amount", "account_age_days", "items_in_cart", "hour_of_day", "ip_risk_score", "country",
            "channel", "payment_method", "shipping_note", "customer_email")
TOP_LEVEL = ("timestamp", "version", "prediction", "score", "probabilities", "latency_ms", "error", "slices",
             "weight", "feature_time")


def packed(values: list[Any]) -> dict[str, str]:
    column = array("d", [math.nan if v is None else v for v in values])
    return {"f8": base64.b64encode(column.tobytes()).decode()}


def column_of(values: list[Any], pack: bool) -> Any:
    """Packed when asked and every value is a float or null (one float at least), else a list."""
    if pack and all(v is None or type(v) is float for v in values) and values.count(None) != len(values):
        return packed(values)
    return values


def to_columns(records: list[dict[str, Any]], pack: bool = True) -> dict[str, Any]:
    names: list[str] = []
    for r in records:
        names += [k for k in r.get("features", {}) if k not in names]
    columns: dict[str, Any] = {"prediction_id": [r["prediction_id"] for r in records]}
    columns["features"] = {name: column_of([r["features"].get(name) for r in records], pack) for name in names}
    for field in TOP_LEVEL:
        values = [r.get(field) for r in records]
        if any(v is not None for v in values):
            columns[field] = column_of(values, pack and field != "version")
    return columns


def columnar_batch(records: list[dict[str, Any]], model: str = FRAUD, pack: bool = True, **envelope: Any) -> dict[str, Any]:
    body = batch([], model, **envelope)
    del body["records"]
    body["columns"] = to_columns(records, pack)
    return body


def varied_records(prefix: str, n: int, seed: int) -> list[dict[str, Any]]:
    """Fraud-model rows with nulls, ints in numeric features, numbers as categories, PII in text
    features, slices, errors and probabilities: what the records path normalises and redacts."""
    rng = random.Random(seed)
    now = time.time() - 60
    records = []
    for i in range(n):
        features: dict[str, Any] = {
            "amount": round(rng.uniform(0, 900), 2),
            "account_age_days": rng.choice([rng.randrange(0, 4000), None, 17.5]),
            "items_in_cart": rng.randrange(0, 9),
            "hour_of_day": float(rng.randrange(24)),
            "ip_risk_score": rng.choice([rng.random(), None]),
            "country": rng.choice(["DE", "US", 7, None, "FR"]),
            "channel": rng.choice(["web", "ios", True]),
            "payment_method": rng.choice(["card", "call +44 20 7946 0958", "x"]),
            "shipping_note": rng.choice(["leave at door", None]),
            "customer_email": rng.choice([f"user{i}@example.com", None]),
        }
        record = fraud_record(f"{prefix}-{i}", features=features, timestamp=now + i * 0.001,
                              prediction=rng.choice(["0", "1", 1, 0.0]), score=rng.choice([rng.random(), None]),
                              latency_ms=rng.choice([rng.uniform(0, 50), None]))
        if rng.random() < 0.3:
            record["error"] = rng.choice(["Timeout", "card 4111 1111 1111 1111 declined"])
        if rng.random() < 0.3:
            record["probabilities"] = {"0": 0.25, "1": 0.75}
        if rng.random() < 0.5:
            record["slices"] = {"channel": features["channel"], "country": rng.choice(["DE", None, 3])}
        else:
            record.pop("slices", None)
        if rng.random() < 0.2:
            record["weight"] = 2.0
        records.append(record)
    return records


STORED = ("time, version, substr(prediction_id, 3) AS key, CAST(features AS TEXT) AS features, prediction, "
          "prediction_value, score, CAST(probabilities AS TEXT) AS probabilities, latency_ms, error, "
          "CAST(slices AS TEXT) AS slices, weight")


def stored(c: Collector, prefix: str) -> list[tuple[Any, ...]]:
    rows = c.rows(f"SELECT {STORED} FROM predictions WHERE prediction_id LIKE :p ORDER BY time", p=f"{prefix}-%")
    return [tuple(r) for r in rows]


@pytest.mark.parametrize(("pack", "bad_row"), [(True, False), (False, False), (True, True)],
                         ids=["packed", "lists", "via-records"])
def test_a_columnar_batch_stores_what_the_records_batch_stores(any_collector: Collector, pack: bool,
                                                               bad_row: bool) -> None:
    records = varied_records("r", 300, seed=5)
    if bad_row:  # one bad row: the columns are turned into records, which name it
        records[7]["timestamp"] = time.time() + 3 * 86400
    same_rows = [{**r, "prediction_id": "c" + r["prediction_id"][1:]} for r in records]
    as_records = any_collector.post("/v1/predictions", batch(records))
    as_columns = any_collector.post("/v1/predictions", columnar_batch(same_rows, pack=pack))
    assert as_records.status_code == as_columns.status_code == 200, as_columns.text
    assert as_columns.json() == as_records.json()
    assert as_columns.json()["accepted"] == 300 - bad_row
    expected, got = stored(any_collector, "r"), stored(any_collector, "c")
    assert len(got) == 300 - bad_row
    assert got == expected
    # Redaction happened on both paths: the hashed e-mail and masked note are not stored as sent.
    assert not any("@example.com" in row[3] or "leave at door" in row[3] for row in got)
    assert columnar_paths(any_collector) == {"fast": float(not bad_row), "records": float(bad_row)}


def test_a_retried_columnar_batch_is_counted_as_duplicates(any_collector: Collector) -> None:
    body = columnar_batch([fraud_record(f"d-{i}") for i in range(20)])
    assert any_collector.post("/v1/predictions", body).json()["accepted"] == 20
    assert any_collector.post("/v1/predictions", body).json() == {"accepted": 0, "duplicates": 20, "rejected": []}


def columnar_paths(c: Collector) -> dict[str, float]:
    """modelwatch_columnar_batches_total by path, from /metrics."""
    paths = {"fast": 0.0, "records": 0.0}
    for line in c.client.get("/metrics").text.splitlines():
        if line.startswith("modelwatch_columnar_batches_total{"):
            path = line.split('path="')[1].split('"')[0]
            paths[path] += float(line.rsplit(" ", 1)[1])
    return paths


def _problems(answer: Any) -> list[tuple[Any, str]]:
    return [(p["row"], p["field"]) for p in answer.json()["rejected"]]


def test_bad_rows_are_named_as_in_a_records_batch(collector: Collector) -> None:
    future = time.time() + 3 * 86400
    rows = [fraud_record("ok-0"), fraud_record("bad-ts", timestamp=future),
            fraud_record("bad-type", features={"amount": "twelve"}), fraud_record("ok-3"),
            fraud_record("bad-latency", latency_ms=-1.0), fraud_record("bad-inf", score=math.inf)]
    records_rows = [{**r, "prediction_id": "r" + r["prediction_id"]} for r in rows if r["score"] != math.inf]
    columns = collector.post("/v1/predictions", columnar_batch(rows))
    assert columns.status_code == 200, columns.text
    assert columns.json()["accepted"] == 2
    assert _problems(columns) == [(1, "timestamp"), (2, "features.amount"), (4, "latency_ms"), (5, "score")]
    # The records path names the same rows and fields (it cannot carry an infinity in JSON).
    records = collector.post("/v1/predictions", batch(records_rows))
    assert _problems(records) == [(1, "timestamp"), (2, "features.amount"), (4, "latency_ms")]


def test_a_null_in_a_non_nullable_feature_rejects_that_row(collector: Collector) -> None:
    rows = [{"prediction_id": f"h-{i}", "features": {"sq-ft": v, "rooms": 3.0, "city": "paris", "class": "a"},
             "prediction": 100.0 + i} for i, v in enumerate([80.0, None, 120.0])]
    answer = collector.post("/v1/predictions", columnar_batch(rows, model=PRICES))
    assert answer.status_code == 200, answer.text
    assert answer.json()["accepted"] == 2
    assert _problems(answer) == [(1, "features.sq-ft")]
    assert [r.prediction_value for r in collector.rows("SELECT prediction_value FROM predictions ORDER BY prediction_id")] == [100.0, 102.0]


def test_an_unknown_column_rejects_every_row(collector: Collector) -> None:
    body = columnar_batch([fraud_record("u-0"), fraud_record("u-1")])
    body["columns"]["colour"] = ["red", "blue"]
    answer = collector.post("/v1/predictions", body)
    assert answer.status_code == 422
    assert [(p["row"], p["field"], p["error"]) for p in answer.json()["detail"]] == [
        (0, "colour", "unknown field"), (1, "colour", "unknown field")]


@pytest.mark.parametrize(("change", "field"), [
    (lambda c: c.update(score=[0.5]), "columns.score"),
    (lambda c: c.update(score={"f8": "not base64!"}), "columns.score"),
    (lambda c: c.update(latency_ms={"f8": base64.b64encode(b"\0" * 8).decode()}), "columns.latency_ms"),
    (lambda c: c["features"].update(amount=[1.0, 2.0, 3.0]), "columns.features.amount"),
    (lambda c: c.update(prediction_id="p-1"), "columns.prediction_id"),
    (lambda c: c.update(features=[1, 2]), "columns.features"),
    (lambda c: c.update(slices=7), "columns.slices"),
])
def test_malformed_columns_are_422_naming_the_column(collector: Collector, change: Any, field: str) -> None:
    body = columnar_batch([fraud_record("m-0"), fraud_record("m-1")])
    change(body["columns"])
    answer = collector.post("/v1/predictions", body)
    assert answer.status_code == 422, answer.text
    assert [p["field"] for p in answer.json()["detail"]] == [field]
    assert collector.rows("SELECT count(*) AS n FROM predictions")[0].n == 0


def test_too_many_rows_is_413(collector: Collector) -> None:
    answer = collector.post("/v1/predictions", columnar_batch([fraud_record(f"big-{i}") for i in range(501)]))
    assert answer.status_code == 413


def test_nul_in_a_column_rejects_that_row(collector: Collector) -> None:
    rows = [fraud_record("n-0"), fraud_record("n-1", error="bad\u0000byte")]
    answer = collector.post("/v1/predictions", columnar_batch(rows))
    assert answer.status_code == 200, answer.text
    assert answer.json()["accepted"] == 1 and _problems(answer)[0][0] == 1


def test_a_records_body_with_a_feature_named_columns_is_still_a_records_body(collector: Collector) -> None:
    # "columns" early in the body makes it look columnar; the full decode says otherwise.
    body = {"model": FRAUD, "records": [fraud_record("x-0")], "version": "v1", "columns": None}
    answer = collector.post("/v1/predictions", body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["accepted"] == 1


def test_the_sdk_shape_takes_the_fast_path(collector: Collector) -> None:
    """What the SDK sends for clean rows (packed floats, string categories, one key set) is
    stored without turning columns into records."""
    rows = [fraud_record(f"f-{i}", features={"amount": 1.5 * i, "account_age_days": 30.0, "items_in_cart": 2.0,
                                            "hour_of_day": 3.0, "ip_risk_score": 0.5, "country": "DE",
                                            "channel": "web", "payment_method": "card", "shipping_note": None,
                                            "customer_email": "a@b.example"}) for i in range(50)]
    body = msgspec.json.encode(columnar_batch(rows))
    codec = collector.client.app.state.collector.codecs[FRAUD]
    envelope = codec.columns_envelope.decode(body)
    stored_rows, versions = columnar.fast_columns(codec, envelope, TimeBounds.at(datetime.now(timezone.utc)))
    assert len(stored_rows) == 50 and versions == {"v1"}
    document = msgspec.json.decode(stored_rows.features[3])
    assert list(document) == list(FEATURES)
    assert document["amount"] == 4.5 and document["shipping_note"] is None
    assert document["customer_email"].startswith("hmac:")


# -- fuzzing: any columnar body gets a 2xx or a 4xx, and every row is accounted for -------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=False, allow_infinity=False),
                    st.text(max_size=12), st.sampled_from(["DE", "web", "a@b.example", "+44 20 7946 0958"]))


def _packed_of(n: int) -> st.SearchStrategy[Any]:
    floats = st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), min_size=n, max_size=n)
    return floats.map(lambda values: {"f8": base64.b64encode(array("d", values).tobytes()).decode()})


def _column(n: int) -> st.SearchStrategy[Any]:
    near = st.integers(max(0, n - 1), n + 1)
    return st.one_of(_packed_of(n), near.flatmap(lambda k: st.lists(_VALUES, min_size=k, max_size=k)),
                     st.just({"f8": "!!"}), _VALUES)


_NUMERIC = FEATURES[:5]


def _good_column(name: str, n: int) -> st.SearchStrategy[Any]:
    """A column of the right length and a plausible type for feature or field ``name``."""
    if name in _NUMERIC or name in ("score", "latency_ms", "weight"):
        finite = st.floats(0.001, 1e6)
        return st.one_of(st.lists(finite, min_size=n, max_size=n).map(packed),
                         st.lists(st.one_of(st.none(), finite, st.integers(0, 10**6)), min_size=n, max_size=n))
    if name == "timestamp":
        return st.just(packed([time.time() - 5.0] * n))
    return st.lists(st.one_of(st.none(), st.sampled_from(["DE", "web", "a@b.example", "x\u00e9", "7"])),
                    min_size=n, max_size=n)


@st.composite
def columnar_bodies(draw: Any) -> dict[str, Any]:
    n = draw(st.integers(0, 6))
    good = draw(st.booleans())  # half plausible batches (both paths), half hostile shapes
    column = (lambda name: _good_column(name, n)) if good else (lambda name: _column(n))
    ids = draw(st.lists(st.text(min_size=1 if good else 0, max_size=8), min_size=n, max_size=n))
    names = draw(st.lists(st.sampled_from(FEATURES if good else FEATURES + ("colour",)), max_size=6, unique=True))
    columns: dict[str, Any] = {"prediction_id": ids, "features": {name: draw(column(name)) for name in names}}
    fields = ("timestamp", "score", "latency_ms", "weight", "prediction", "error") if good else TOP_LEVEL + ("nonsense",)
    for field in draw(st.lists(st.sampled_from(fields), max_size=4, unique=True)):
        columns[field] = draw(column(field))
    return {"model": FRAUD, "version": "v1", "columns": columns}


@settings(max_examples=200, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(body=columnar_bodies())
def test_any_columnar_body_is_answered_without_5xx_and_rows_add_up(hostile_columns: Collector,
                                                                   body: dict[str, Any]) -> None:
    answer = hostile_columns.post("/v1/predictions", body)
    assert answer.status_code < 500, answer.text
    if answer.status_code == 200:
        result = answer.json()
        n = len(body["columns"]["prediction_id"])
        assert result["accepted"] + result["duplicates"] + len(result["rejected"]) == n


@pytest.fixture(scope="module")
def hostile_columns(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One SQLite collector for every fuzzed body (hypothesis runs many examples in one test)."""
    from fastapi.testclient import TestClient

    from collector.app import create_app
    from store.bootstrap import create_schema
    from store.engine import create_engine
    from store.tokens import create_token
    from tests.collector.conftest import make_settings, monitors_for_tests

    engine = create_engine(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}")
    create_schema(engine)
    client = TestClient(create_app(make_settings(), engine=engine, monitors=monitors_for_tests()),
                        raise_server_exceptions=False)
    with client:
        yield Collector(client, engine, {"ingest": create_token(engine, ["ingest"], "fuzz")})
    engine.dispose()
