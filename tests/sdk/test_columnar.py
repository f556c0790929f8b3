"""Columnar prediction batches: a columnar body stands for exactly the records the records path
would send for the same buffered items (decoded here with json + base64 + array, independently of
modelwatch.columnar), counts infinities the same way, and is only used where the spec allows it.
Then the worker: columns by default, records on request, and the fallback for older collectors."""

from __future__ import annotations

import base64
import json
import logging
import math
import random
import sys
from array import array
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

import pytest

from modelwatch import Client, InMemoryTransport, TransportResult
from modelwatch.redact import RedactionPolicy
from modelwatch.columnar import columns_body, feature_names, records_from_columns
from modelwatch.payloads import EncodeStats, encode_items, encode_json, prediction_record

from .conftest import CollectorStub

MakeClient = Callable[..., Client]
ENVELOPE = {"model": "fraud", "version": "v1", "batch_id": "b1"}
T = 1764072000.25


class NumpyLike:
    """A numpy-like scalar: not a JSON type, converted by ``.item()``."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def item(self) -> Any:
        return self.value


# -- an independent reader of the wire format (the spec's "Meaning" rule) -------------------------

def column(value: Any, n: int) -> list[Any]:
    if isinstance(value, dict):
        assert set(value) == {"f8"}
        packed = array("d")
        packed.frombytes(base64.b64decode(value["f8"], validate=True))
        if sys.byteorder == "big":
            packed.byteswap()
        assert all(not math.isinf(v) for v in packed), "infinity is not allowed in a packed column"
        values = [None if math.isnan(v) else v for v in packed]
    else:
        assert isinstance(value, list)
        values = value
    assert len(values) == n
    return values


def decode(body: bytes) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The envelope and the records a columnar body means."""
    payload = json.loads(body)
    assert next(iter(payload)) == "model"  # the collector's fast path reads the model first
    assert "records" not in payload
    columns = payload.pop("columns")
    ids = columns.pop("prediction_id")
    features = {name: column(values, len(ids)) for name, values in columns.pop("features").items()}
    others = {field: column(values, len(ids)) for field, values in columns.items()}
    records = []
    for k, prediction_id in enumerate(ids):
        record = {"prediction_id": prediction_id, "features": {name: values[k] for name, values in features.items()}}
        record.update((field, values[k]) for field, values in others.items() if values[k] is not None)
        records.append(record)
    return payload, records


def records_path(items: list[Any], weight: float | None,
                 policy: RedactionPolicy | None = None) -> tuple[list[dict[str, Any]], int]:
    """What the records path sends for ``items`` (nulls outside features left out, as in a
    columnar batch's meaning), and the infinities it counts."""
    stats = EncodeStats()

    def build(item: Any, s: EncodeStats | None) -> dict[str, Any]:
        return prediction_record(item, weight, policy, s)

    def invalid(exc: Exception) -> None:
        raise AssertionError(f"records path refused an item of an eligible batch: {exc!r}")

    pieces, _ = encode_items(items, build, stats, invalid)
    records = json.loads(b"[" + b",".join(pieces) + b"]")
    return [{k: v for k, v in r.items() if v is not None or k == "features"} for r in records], stats.non_finite


def cleaned_records(items: list[Any], weight: float | None, policy: RedactionPolicy) -> tuple[list[dict[str, Any]], int]:
    """The records path with every record cleaned before it is redacted (what it does for a
    record holding a value JSON refuses). With a policy that is the reference: the fast records
    path redacts raw values, so a field masked or hashed there turns NaN into "[MASKED]" where
    the cleaned record keeps null; columns clean first, like this."""
    stats = EncodeStats()
    records = json.loads(encode_json([prediction_record(item, weight, policy, stats) for item in items]))
    return [{k: v for k, v in r.items() if v is not None or k == "features"} for r in records], stats.non_finite


def columnar(items: list[Any], weight: float | None = None,
             policy: RedactionPolicy | None = None) -> tuple[bytes | None, int]:
    stats = EncodeStats()
    return columns_body(items, ENVELOPE, weight, stats, policy), stats.non_finite


def assert_same_as_records(items: list[Any], weight: float | None = None,
                           policy: RedactionPolicy | None = None) -> bytes:
    body, non_finite = columnar(items, weight, policy)
    assert body is not None
    envelope, records = decode(body)
    assert envelope == ENVELOPE
    expected, expected_non_finite = records_path(items, weight) if policy is None else cleaned_records(items, weight, policy)
    assert records == expected
    assert non_finite == expected_non_finite
    assert records_from_columns(json.loads(body)["columns"]) == records  # the SDK's own reader agrees
    return body


def item(prediction_id: str = "p", features: Any = None, prediction: Any = "1", score: Any = None,
         probabilities: Any = None, latency_ms: Any = None, error: Any = None, slices: Any = None,
         timestamp: Any = T, feature_timestamp: Any = None) -> tuple[Any, ...]:
    """A tuple as Client.log_prediction buffers it."""
    return (prediction_id, timestamp, features, prediction, score, probabilities, latency_ms, error, slices,
            feature_timestamp)


# -- generated batches ------------------------------------------------------------------------------

ODD_TEXT = ['plain', 'quote " and \\ backslash', "tab\tnewline\n", "\x00\x1f control", "ümlaut ß", "日本語",
            "emoji 🙂", "", "</script>", "\u2028 line separator"]


def value_of(kind: str, rng: random.Random) -> Any:
    if kind == "float":
        return rng.choice([rng.uniform(-1e6, 1e6), 0.1, -0.0, 1e-310, 1.7976931348623157e308])
    if kind == "float_odd":  # NaN, infinities and None among floats
        return rng.choice([rng.random(), math.nan, math.inf, -math.inf, None, 2.5])
    if kind == "int":
        return rng.choice([0, -3, 2**53 + 1, 10**30])
    if kind == "bool":
        return rng.choice([True, False])
    if kind == "str":
        return rng.choice(ODD_TEXT)
    if kind == "numpy":
        return NumpyLike(rng.choice([1.5, 3, math.inf, math.nan, True]))
    if kind == "none":
        return None
    # mixed: anything, nested values included
    return rng.choice([1, 1.5, "x", None, True, math.nan, math.inf, [1.0, math.inf], {"k": math.nan}, (1, 2),
                       NumpyLike(2.0)])


KINDS = ["float", "float_odd", "int", "bool", "str", "numpy", "none", "mixed"]
NAMES = ["amount", "country", 'na"me', "back\\slash", "ünïcode", "日本", "", "new\nline"]


def batch(rng: random.Random, n: int) -> list[tuple[Any, ...]]:
    names = rng.sample(NAMES, rng.randint(0, len(NAMES)))
    kinds = {name: rng.choice(KINDS) for name in names}
    output_kinds = {field: rng.choice(KINDS) for field in ("prediction", "score", "latency_ms")}
    items = []
    for i in range(n):
        prediction_id = rng.choice([f"p{i}", f'id "{i}" \\', f"ïd-{i}-🙂", f"id\n{i}", "x" * 250 + str(i)])
        probabilities = rng.choice([None, {"0": 0.25, "1": 0.75}, {"0": math.inf, "1": math.nan}])
        error = rng.choice([None, None, "ValueError: bad", "e" * 2500])
        slices = rng.choice([None, {}, {"region": "eu", "n": 3, "none": None}])
        items.append(item(prediction_id, {name: value_of(kinds[name], rng) for name in names},
                          value_of(output_kinds["prediction"], rng), value_of(output_kinds["score"], rng),
                          probabilities, value_of(output_kinds["latency_ms"], rng), error, slices,
                          timestamp=T + rng.random() * 100))
    return items


@pytest.mark.parametrize("seed", range(60))
def test_generated_batches_mean_what_the_records_path_sends(seed: int) -> None:
    rng = random.Random(seed)
    assert_same_as_records(batch(rng, rng.randint(1, 40)), weight=rng.choice([None, 1.0, 4.0, 1 / 0.3]))


PII_TEXT = ["write to jane.doe@example.com", "call +44 20 7946 0958", "card 4111 1111 1111 1111", "plain",
            "hmac:" + "a" * 64]


def random_policy(rng: random.Random, names: list[str]) -> RedactionPolicy:
    actions = {name: rng.choice(["drop", "hash", "mask"]) for name in rng.sample(names, rng.randint(0, len(names)))}
    actions.update({"region": "mask"} if rng.random() < 0.3 else {})
    return RedactionPolicy(fields=actions, detectors=tuple(rng.sample(["email", "card", "phone"], rng.randint(0, 3))),
                           hash_key=rng.choice([None, b"k"]), prediction_id=rng.choice(["detect", "hash", "keep"]))


@pytest.mark.parametrize("seed", range(60))
def test_with_a_pii_policy_columns_mean_what_the_records_path_sends(seed: int) -> None:
    rng = random.Random(seed)
    items = batch(rng, rng.randint(1, 30))
    names = list(items[0][2])
    pii = [item(rng.choice(["a@b.example", "+1 (555) 123-4567", "4111111111111111", f"p{k}"]),
                {name: rng.choice(PII_TEXT + [None, 1.5, ["x@y.example", 2], {"k": "+44 20 7946 0958"}])
                 for name in names},
                error=rng.choice([None, "failed for a@b.example"]),
                slices=rng.choice([None, {"region": "eu", "who": "a@b.example"}]))
           for k in range(rng.randint(1, 10))]
    assert_same_as_records(items + pii, weight=rng.choice([None, 2.0]), policy=random_policy(rng, names))


def test_float_columns_are_packed_and_nan_inf_are_null_with_infinities_counted() -> None:
    items = [item(f"p{i}", {"amount": v, "country": "DE"}, score=s, latency_ms=None if i % 2 else 2.5)
             for i, (v, s) in enumerate([(1.5, 0.1), (math.nan, math.inf), (math.inf, None), (-math.inf, 0.2)])]
    body = assert_same_as_records(items)
    columns = json.loads(body)["columns"]
    assert set(columns["features"]["amount"]) == {"f8"}
    assert set(columns["score"]) == set(columns["latency_ms"]) == set(columns["timestamp"]) == {"f8"}
    assert columns["features"]["country"] == ["DE"] * 4
    assert columnar(items)[1] == 3  # two infinite amounts, one infinite score; NaN silently null


def test_none_values_stay_explicit_nulls_in_features() -> None:
    items = [item("a", {"x": None, "y": 1.0}), item("b", {"x": None, "y": None})]
    _, records = decode(assert_same_as_records(items))
    assert [r["features"] for r in records] == [{"x": None, "y": 1.0}, {"x": None, "y": None}]


def test_int_bool_str_and_numpy_like_values_go_as_json_lists() -> None:
    items = [item("a", {"i": 1, "b": True, "s": "ü", "np": NumpyLike(2.5)}, prediction=NumpyLike(1)),
             item("b", {"i": 2, "b": False, "s": "x", "np": NumpyLike(math.inf)}, prediction=0)]
    columns = json.loads(assert_same_as_records(items))["columns"]
    assert columns["features"] == {"i": [1, 2], "b": [True, False], "s": ["ü", "x"], "np": [2.5, None]}
    assert columns["prediction"] == [1, 0]
    assert columnar(items)[1] == 1


def test_a_weight_other_than_one_goes_packed() -> None:
    items = [item("a", {"x": 1.0}), item("b", {"x": 2.0})]
    assert "weight" in json.loads(assert_same_as_records(items, weight=10.0))["columns"]
    assert "weight" not in json.loads(assert_same_as_records(items, weight=1.0))["columns"]
    assert "weight" not in json.loads(assert_same_as_records(items, weight=None))["columns"]


def test_empty_and_absent_features() -> None:
    assert json.loads(assert_same_as_records([item("a", {}), item("b", {})]))["columns"]["features"] == {}
    assert json.loads(assert_same_as_records([item("a", None), item("b", None)]))["columns"]["features"] == {}


def test_errors_are_cut_and_slices_cleaned_like_records() -> None:
    items = [item("a", {"x": 1.0}, error="E" * 3000, slices={"region": 7}), item("b", {"x": 2.0})]
    _, records = decode(assert_same_as_records(items))
    assert len(records[0]["error"]) == 2000 and records[0]["slices"] == {"region": "7"}
    assert "error" not in records[1] and "slices" not in records[1]


@pytest.mark.parametrize("items", [
    pytest.param([], id="empty batch"),
    pytest.param([item("a", {"x": 1.0}), item("b", [1.0])], id="features not a dict"),
    pytest.param([item("a", MappingProxyType({"x": 1.0}))], id="a mapping that is not a dict"),
    pytest.param([item("a", {"x": 1.0}), item("b", None)], id="some features None"),
    pytest.param([item("a", {"x": 1.0, "y": 2.0}), item("b", {"y": 2.0, "x": 1.0})], id="another key order"),
    pytest.param([item("a", {"x": 1.0, "y": 2.0}), item("b", {"x": 1.0})], id="fewer keys"),
    pytest.param([item("a", {"x": 1.0}), item("b", {"z": 1.0})], id="other keys"),
    pytest.param([item("a", {1: 1.0})], id="a key that is not a string"),
    pytest.param([item("a", {"x": 1.0}), item("b", {"x": 1.0}, feature_timestamp=T - 5)], id="feature timestamp"),
    pytest.param([item("", {"x": 1.0})], id="empty id"),
    pytest.param([item("x" * 257, {"x": 1.0})], id="id too long"),
    pytest.param([item("a", {"x": 1.0}, slices=["not", "a", "mapping"])], id="slices not a dict"),
    pytest.param([item("a", {"x": 1.0}, error=RuntimeError("not text"))], id="error not text"),
])
def test_batches_the_spec_keeps_as_records(items: list[Any]) -> None:
    assert columnar(items) == (None, 0)


def test_key_tuple_check() -> None:
    assert feature_names([{"a": 1, "b": 2}, {"a": 3, "b": 4}]) == ("a", "b")
    assert feature_names([None, None]) == ()
    assert feature_names([{"a": 1, "b": 2}, {"b": 1, "a": 2}]) is None
    assert feature_names([{"a": 1, "b": 2}, {"a": 1, "c": 2}]) is None


@pytest.mark.parametrize("items", [
    pytest.param([item("a", {"s": "lone \ud800 surrogate"})], id="text that is not unicode"),
    pytest.param([item("a", {"x": 1.0}, timestamp=math.inf)], id="infinite timestamp"),
])
def test_values_the_records_path_refuses_raise_so_the_batch_goes_as_records(items: list[Any]) -> None:
    with pytest.raises(ValueError):
        columns_body(items, ENVELOPE, None, EncodeStats())


# -- the worker -------------------------------------------------------------------------------------

def log_batch(client: Client, prefix: str, n: int) -> None:
    for i in range(n):
        client.log_prediction(f"{prefix}{i}", {"amount": 1.5 * i, "country": "DE"}, "1", score=0.5, latency_ms=2.0,
                              timestamp=T)


def sent_formats(transport: InMemoryTransport) -> list[str]:
    return ["columns" if "columns" in r.payload else "records" for r in transport.requests if r.path == "/v1/predictions"]


def test_client_sends_columns_by_default(make_client: MakeClient) -> None:
    client = make_client(sample_rate=0.5)
    for i in range(40):
        client.log_prediction(f"p{i}", {"amount": float(i), "country": "DE"}, "1", score=0.25, timestamp=T)
    assert client.flush(5)
    transport = client.transport
    assert isinstance(transport, InMemoryTransport)
    assert sent_formats(transport) == ["columns"]
    (request,) = transport.requests[:1]
    _, records = decode(request.body)
    assert records == transport.records()
    assert {r["weight"] for r in records} == {2.0}
    assert client.stats().sent_predictions == len(records) > 0


def test_wire_format_records_sends_records(make_client: MakeClient) -> None:
    client = make_client(wire_format="records")
    log_batch(client, "p", 5)
    assert client.flush(5)
    transport = client.transport
    assert isinstance(transport, InMemoryTransport)
    assert sent_formats(transport) == ["records"]
    assert len(transport.records()) == client.stats().sent_predictions == 5


def test_a_redaction_policy_goes_as_columns_redacted(make_client: MakeClient) -> None:
    redacting = make_client(pii={"fields": {"country": "drop"}})
    log_batch(redacting, "p", 3)
    redacting.log_prediction("mail-me@example.com", {"amount": 1.0, "country": "DE"}, "1", timestamp=T)
    assert redacting.flush(5)
    transport = redacting.transport
    assert isinstance(transport, InMemoryTransport)
    assert sent_formats(transport) == ["columns"]
    records = transport.records()
    assert [r["features"] for r in records] == [{"amount": 1.5 * i} for i in range(3)] + [{"amount": 1.0}]
    assert records[3]["prediction_id"] == "mail-me@example.com"  # no key here: the collector hashes it


def test_feature_timestamps_mean_records(make_client: MakeClient) -> None:
    fresh = make_client()
    fresh.log_prediction("a", {"amount": 1.0}, "1", feature_timestamp=T)
    assert fresh.flush(5)
    assert sent_formats(fresh.transport) == ["records"]  # type: ignore[arg-type]


def test_unknown_wire_format_is_refused(make_client: MakeClient) -> None:
    with pytest.raises(ValueError, match="wire_format"):
        make_client(wire_format="parquet")


def test_a_batch_columns_cannot_carry_goes_as_records_and_loses_only_the_bad_row(make_client: MakeClient) -> None:
    client = make_client()
    client.log_prediction("bad", {"s": "lone \ud800"}, "1")
    client.log_prediction("good", {"s": "fine"}, "1")
    assert not client.flush(5)  # a dropped row fails the flush
    transport = client.transport
    assert isinstance(transport, InMemoryTransport)
    assert sent_formats(transport) == ["records"]
    assert [r["prediction_id"] for r in transport.records()] == ["good"]
    assert dict(client.stats().dropped) == {"invalid_record": 1}


def test_rejected_rows_in_the_answer_are_counted(make_client: MakeClient) -> None:
    def answer(path: str, payload: Any) -> TransportResult | None:
        if path != "/v1/predictions":
            return None
        ack = {"accepted": 3, "duplicates": 0, "rejected": [{"row": 1, "field": "features.amount", "error": "bad"}]}
        return TransportResult(200, json.dumps(ack).encode())

    client = make_client(transport=InMemoryTransport(responder=answer))  # type: ignore[arg-type]
    log_batch(client, "p", 4)
    assert not client.flush(5)  # a rejected row is a failure of that flush
    assert client.stats().sent_predictions == 3
    assert dict(client.stats().dropped) == {"rejected_row": 1}


def test_another_422_is_a_rejected_batch_and_columns_stay(make_client: MakeClient) -> None:
    client = make_client()
    transport = client.transport
    assert isinstance(transport, InMemoryTransport)
    problem = {"error": "invalid request body", "detail": [{"row": None, "field": "columns.score", "error": "bad"}]}
    transport.fail_next(1, status=422, body=json.dumps(problem).encode())
    log_batch(client, "a", 3)
    assert not client.flush(5)
    log_batch(client, "b", 2)
    assert client.flush(5)
    assert sent_formats(transport) == ["columns", "columns"]
    assert [r["prediction_id"] for r in transport.records()] == ["b0", "b1"]
    assert dict(client.stats().dropped) == {"rejected_422": 3}


def old_collector_refusal() -> bytes:
    """The exact answer of a collector without columns support (its envelope requires records)."""
    from collector.errors import Problem, error_response

    return bytes(error_response(422, "invalid request body", [Problem(None, "records", "required field is missing")]).body)


def test_an_older_collector_gets_the_batch_again_as_records_then_records_only(
        make_client: MakeClient, collector: CollectorStub, caplog: pytest.LogCaptureFixture) -> None:
    collector.refuse_columns = old_collector_refusal()
    assert json.loads(collector.refuse_columns) == {
        "error": "invalid request body", "detail": [{"row": None, "field": "records", "error": "required field is missing"}]}
    client = make_client(url=collector.url, transport=None)
    with caplog.at_level(logging.WARNING, logger="modelwatch"):
        log_batch(client, "a", 7)
        assert client.flush(5)
        log_batch(client, "b", 3)
        assert client.flush(5)
    formats = ["columns" if "columns" in r.payload else "records" for r in collector.requests("/v1/predictions")]
    assert formats == ["columns", "records", "records"]
    ids = [r["prediction_id"] for r in collector.records()]
    assert ids == [f"a{i}" for i in range(7)] + [f"b{i}" for i in range(3)]  # every row once
    stats = client.stats()
    assert stats.sent_predictions == 10 and dict(stats.dropped) == {}
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "columnar" in warnings[0].getMessage()


def test_a_new_collector_gets_columns_over_http(make_client: MakeClient, collector: CollectorStub) -> None:
    client = make_client(url=collector.url, transport=None)
    log_batch(client, "a", 4)
    assert client.flush(5)
    (request,) = collector.requests("/v1/predictions")
    assert "columns" in request.payload
    assert [r["prediction_id"] for r in collector.records()] == ["a0", "a1", "a2", "a3"]
    assert collector.records()[3]["features"] == {"amount": 4.5, "country": "DE"}
