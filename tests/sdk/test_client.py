"""Client behaviour against the InMemoryTransport: counters, sampling, batching, drops, close."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

import modelwatch
from modelwatch import Client, InMemoryTransport, SDKInternalError, TransportResult
from modelwatch.columnar import payload_records
from modelwatch.sampling import is_sampled

from .conftest import wait_until

MakeClient = Callable[..., Client]


def counters_total(transport: InMemoryTransport) -> dict[str, int]:
    totals = {"requests": 0, "errors": 0, "latency_count": 0}
    for payload in transport.payloads("/v1/counters"):
        for row in payload["counters"]:
            for key in totals:
                totals[key] += row[key]
    return totals


def dropped_total(transport: InMemoryTransport) -> dict[str, int]:
    out: dict[str, int] = {}
    for payload in transport.payloads("/v1/counters"):
        for reason, n in payload["dropped"].items():
            out[reason] = out.get(reason, 0) + n
    return out


def test_counters_are_exact_while_only_sampled_payloads_ship(make_client: MakeClient) -> None:
    client = make_client(sample_rate=0.1, batch_size=100)
    ids = [f"req-{i}" for i in range(5000)]
    for i, pid in enumerate(ids):
        client.log_prediction(pid, {"x": i}, i % 2, latency_ms=float(i % 40), error="boom" if i % 50 == 0 else None)
    assert client.flush(5)
    transport = client.transport
    assert isinstance(transport, InMemoryTransport)
    assert counters_total(transport) == {"requests": 5000, "errors": 100, "latency_count": 4900}
    shipped = [r["prediction_id"] for r in transport.records()]
    assert sorted(shipped) == sorted(pid for pid in ids if is_sampled(pid, 0.1))
    assert 400 < len(shipped) < 600
    assert {r["weight"] for r in transport.records()} == {10.0}


def test_counters_exact_across_threads(make_client: MakeClient) -> None:
    client = make_client(sample_rate=0.01, max_queue_size=100_000)

    def serve(t: int) -> None:
        for i in range(2000):
            client.log_prediction(f"{t}-{i}", {}, 1, latency_ms=1.0)

    threads = [threading.Thread(target=serve, args=(t,)) for t in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert client.flush(5)
    assert counters_total(client.transport)["requests"] == 12_000  # type: ignore[arg-type]


def test_counters_wire_format(make_client: MakeClient) -> None:
    client = make_client(latency_bounds_ms=[10, 100], version="v7")
    client.log_prediction("a", {}, 1, latency_ms=5, timestamp=1764072001.0)
    client.log_prediction("b", {}, 1, latency_ms=50, timestamp=1764072059.0)
    client.log_prediction("c", {}, 1, error=TimeoutError(), timestamp=1764072060.0)
    assert client.flush(5)
    (payload,) = client.transport.payloads("/v1/counters")  # type: ignore[attr-defined]
    assert payload["model"] == "fraud" and payload["version"] == "v7" and len(payload["batch_id"]) == 32
    assert payload["bounds_ms"] == [10, 100]
    assert payload["counters"] == [
        {"minute": 1764072000, "requests": 2, "errors": 0, "latency_count": 2, "latency_sum_ms": 55.0, "latency_buckets": [1, 1, 0]},
        {"minute": 1764072060, "requests": 1, "errors": 1, "latency_count": 0, "latency_sum_ms": 0.0, "latency_buckets": [0, 0, 0]},
    ]
    error_records = [r for r in client.transport.records() if "error" in r]  # type: ignore[attr-defined]
    assert error_records == [{"prediction_id": "c", "timestamp": 1764072060.0, "features": {}, "prediction": 1, "error": "TimeoutError"}]


def test_batches_ship_when_full_without_flush(make_client: MakeClient) -> None:
    client = make_client(batch_size=50)
    for i in range(120):
        client.log_prediction(f"r{i}", {"i": i}, 0)
    transport = client.transport
    assert wait_until(lambda: len(transport.records()) == 100)  # type: ignore[attr-defined]
    assert [len(payload_records(p)) for p in transport.payloads("/v1/predictions")] == [50, 50]  # type: ignore[attr-defined]
    assert client.stats().buffered_predictions == 20


def test_timer_flush(make_client: MakeClient) -> None:
    client = make_client(flush_interval=0.05, batch_size=1000)
    client.log_prediction("only-one", {"a": 1}, 1)
    client.log_label("only-one", 0)
    transport = client.transport
    assert wait_until(lambda: len(transport.payloads("/v1/counters")) == 1, timeout=2)  # type: ignore[attr-defined]
    assert [r["prediction_id"] for r in transport.records()] == ["only-one"]  # type: ignore[attr-defined]
    assert [r["label"] for r in transport.records("/v1/labels")] == [0]  # type: ignore[attr-defined]


def test_buffer_full_drops_are_counted_and_reported(make_client: MakeClient) -> None:
    client = make_client(max_queue_size=5, batch_size=1000)
    for i in range(12):
        client.log_prediction(f"r{i}", {}, 1)
    assert client.stats().dropped == {"buffer_full": 7}
    assert client.flush(5)
    transport = client.transport
    assert len(transport.records()) == 5  # type: ignore[attr-defined]
    assert dropped_total(transport) == {"buffer_full": 7}  # type: ignore[arg-type]
    assert counters_total(transport)["requests"] == 12  # type: ignore[arg-type]


def test_serving_path_never_blocks_on_a_stuck_transport(make_client: MakeClient) -> None:
    release = threading.Event()

    def stuck(path: str, payload: object) -> TransportResult:
        release.wait(10)
        return TransportResult(200, b"{}")

    client = make_client(transport=InMemoryTransport(responder=stuck), batch_size=10, max_queue_size=100)
    start = time.perf_counter()
    for i in range(20_000):
        client.log_prediction(f"r{i}", {"a": 1}, 1)
    elapsed = time.perf_counter() - start
    release.set()
    assert elapsed < 1.0
    assert client.stats().dropped["buffer_full"] >= 20_000 - 110


def test_batch_id_reused_on_retry_and_no_duplicates(make_client: MakeClient) -> None:
    transport = InMemoryTransport()
    client = make_client(transport=transport, batch_size=1000)
    for i in range(30):
        client.log_prediction(f"r{i}", {}, 1)
    transport.fail_next(2, 503, retry_after=0.01)
    transport.fail_next(1, None)  # then a connection error
    assert client.flush(5)
    attempts = [r for r in transport.requests if r.path == "/v1/predictions"]
    assert len(attempts) == 4
    assert len({r.payload["batch_id"] for r in attempts}) == 1
    assert len({r.body for r in attempts}) == 1
    assert sorted(r["prediction_id"] for r in transport.records()) == sorted(f"r{i}" for i in range(30))


def test_rejection_is_not_retried_and_counted_by_status(make_client: MakeClient) -> None:
    transport = InMemoryTransport()
    client = make_client(transport=transport)
    for i in range(4):
        client.log_prediction(f"r{i}", {}, 1)
    transport.fail_next(1, 422)
    assert not client.flush(5)  # something was lost
    assert len([r for r in transport.requests if r.path == "/v1/predictions"]) == 1
    assert client.stats().dropped == {"rejected_422": 4}
    client.log_prediction("later", {}, 1)
    assert client.flush(5)
    assert dropped_total(transport) == {"rejected_422": 4}


def test_rejected_rows_in_a_200_answer_are_counted(make_client: MakeClient) -> None:
    def partial(path: str, payload: dict) -> TransportResult:  # type: ignore[type-arg]
        if path == "/v1/predictions":
            return TransportResult(200, b'{"accepted":1,"duplicates":0,"rejected":[{"row":1,"field":"features.x","error":"bad"}]}')
        return TransportResult(200, b"{}")

    client = make_client(transport=InMemoryTransport(responder=partial))
    client.log_prediction("a", {"x": 1}, 1)
    client.log_prediction("b", {"x": "oops"}, 1)
    client.flush(5)
    assert client.stats().dropped == {"rejected_row": 1}
    assert client.stats().sent_predictions == 1


def test_retry_deadline_drops_are_reported_later(make_client: MakeClient) -> None:
    transport = InMemoryTransport()
    client = make_client(transport=transport, retry_deadline=0.2, backoff_base=0.02, backoff_cap=0.05)
    client.log_prediction("a", {}, 1)
    transport.fail_next(10_000, 503)
    assert not client.flush(5)
    assert client.stats().dropped == {"retry_deadline": 1}
    assert client.stats().pending_counter_batches == 1  # counters are kept, not dropped
    transport.clear()
    assert client.flush(5)
    (payload,) = transport.payloads("/v1/counters")
    assert payload["counters"][0]["requests"] == 1
    assert payload["dropped"] == {"retry_deadline": 1}


def test_pending_counters_keep_their_batch_id(make_client: MakeClient) -> None:
    transport = InMemoryTransport()
    client = make_client(transport=transport, retry_deadline=0.1, backoff_base=0.02, backoff_cap=0.02)
    client.log_prediction("a", {}, 1)
    transport.fail_next(10_000, None)
    client.flush(5)
    failed_ids = {r.payload["batch_id"] for r in transport.requests if r.path == "/v1/counters"}
    transport.clear()
    client.log_prediction("b", {}, 1)
    assert client.flush(5)
    sent = transport.payloads("/v1/counters")
    assert len(sent) == 2 and sent[0]["batch_id"] in failed_ids  # the old delta, same id, first
    assert sum(row["requests"] for p in sent for row in p["counters"]) == 2


@pytest.mark.parametrize("wire_format", ["columns", "records"])
def test_nan_and_inf_map_to_null_and_infinities_count(make_client: MakeClient, wire_format: str) -> None:
    client = make_client(wire_format=wire_format)
    client.log_prediction("a", {"x": float("nan"), "y": float("inf"), "z": 1.0}, float("-inf"), score=float("nan"))
    assert client.flush(5)
    (record,) = client.transport.records()  # type: ignore[attr-defined]
    assert record["features"] == {"x": None, "y": None, "z": 1.0}
    assert record.get("prediction") is None and record.get("score") is None  # null, or left out (columns)
    assert dropped_total(client.transport) == {"non_finite": 2}  # type: ignore[arg-type]


def test_pii_policy_applied_client_side(make_client: MakeClient) -> None:
    client = make_client(pii={"fields": {"email": "hash", "ssn": "drop"}, "hash_key": "k"})
    client.log_prediction("a", {"email": "bob@example.com", "ssn": "123-45-6789", "note": "card 4111 1111 1111 1111"}, 1,
                          error="failed for bob@example.com", slices={"region": "call +49 30 1234567"})
    assert client.flush(5)
    (record,) = client.transport.records()  # type: ignore[attr-defined]
    assert record["features"]["email"].startswith("hmac:")
    assert "ssn" not in record["features"]
    assert record["features"]["note"] == "card [CARD]"
    assert record["error"] == "failed for [EMAIL]"
    assert record["slices"] == {"region": "call [PHONE]"}


def test_caller_copy_of_features_is_taken(make_client: MakeClient) -> None:
    client = make_client()
    features = {"a": 1}
    client.log_prediction("a", features, 1)
    features["a"] = 2  # the caller reuses its dict
    assert client.flush(5)
    assert client.transport.records()[0]["features"] == {"a": 1}  # type: ignore[attr-defined]


def test_labels_always_ship_unless_sample_labels(make_client: MakeClient) -> None:
    every = make_client(sample_rate=0.1)
    sampled_only = make_client(sample_rate=0.1, sample_labels=True)
    ids = [f"id-{i}" for i in range(300)]
    for client in (every, sampled_only):
        for pid in ids:
            client.log_label(pid, 1, timestamp="2026-11-25T12:00:00Z")
        assert client.flush(5)
    assert len(every.transport.records("/v1/labels")) == 300  # type: ignore[attr-defined]
    labels = sampled_only.transport.records("/v1/labels")  # type: ignore[attr-defined]
    assert sorted(r["prediction_id"] for r in labels) == sorted(p for p in ids if is_sampled(p, 0.1))
    assert labels[0]["timestamp"] == 1795608000.0


def test_close_refuses_new_items_and_drains(make_client: MakeClient) -> None:
    client = make_client()
    for i in range(10):
        client.log_prediction(f"r{i}", {}, 1)
    assert client.close(2)
    assert client.closed and client.transport.closed  # type: ignore[attr-defined]
    client.log_prediction("late", {}, 1)
    client.log_label("late", 1)
    assert len(client.transport.records()) == 10  # type: ignore[attr-defined]
    assert client.stats().dropped == {"shutdown": 2}
    assert client.close(1)  # idempotent


def test_close_deadline_is_honoured_against_a_failing_collector(make_client: MakeClient) -> None:
    transport = InMemoryTransport()
    client = make_client(transport=transport, retry_deadline=60)
    for i in range(10):
        client.log_prediction(f"r{i}", {}, 1)
    transport.fail_next(100_000, 503, retry_after=0.05)
    client.flush(0.01)  # the worker is now busy retrying
    start = time.monotonic()
    assert not client.close(0.3)
    assert time.monotonic() - start < 0.6
    assert wait_until(lambda: client.stats().dropped.get("shutdown") == 10, timeout=2)


def test_close_cuts_a_long_retry_after_wait(make_client: MakeClient) -> None:
    transport = InMemoryTransport()
    client = make_client(transport=transport)
    client.log_prediction("a", {}, 1)
    transport.fail_next(1, 503, retry_after=30)
    client.flush(0.05)  # the worker sleeps 30 s before the retry
    start = time.monotonic()
    client.close(2)
    assert time.monotonic() - start < 1.0  # it gave up at once: 30 s would pass the deadline


def test_flush_times_out_but_keeps_working(make_client: MakeClient) -> None:
    transport = InMemoryTransport()
    client = make_client(transport=transport)
    client.log_prediction("a", {}, 1)
    transport.fail_next(3, 503, retry_after=0.1)
    assert not client.flush(0.05)
    assert wait_until(lambda: len(transport.records()) == 1, timeout=3)


def test_flush_and_close_without_any_call(make_client: MakeClient) -> None:
    client = make_client()
    assert client.flush(0.5)
    assert client.close(0.5)
    assert client.transport.requests == []  # type: ignore[attr-defined]


def test_never_raises_outside_debug_mode(make_client: MakeClient) -> None:
    client = make_client(debug=False)
    client.log_prediction("a", 5, 1)  # type: ignore[arg-type]  # features not a mapping
    client.log_prediction("b", {}, 1, timestamp="not a time", latency_ms="slow")  # type: ignore[arg-type]
    client.log_prediction(None, {}, 1)  # type: ignore[arg-type]
    client.log_label("c", 1, timestamp=object())
    assert client.stats().internal_errors == 3
    assert client.flush(5)
    assert counters_total(client.transport)["requests"] == 3  # type: ignore[arg-type]


def test_debug_mode_raises_on_the_caller_thread(make_client: MakeClient) -> None:
    client = make_client(debug=True)
    with pytest.raises(TypeError):
        client.log_prediction("a", 5, 1)  # type: ignore[arg-type]


def test_debug_mode_surfaces_background_errors_on_flush(make_client: MakeClient) -> None:
    class Hostile:
        def __str__(self) -> str:
            raise RuntimeError("str() exploded")

    client = make_client(debug=True)
    client.log_prediction("a", {"x": Hostile()}, 1)
    client.log_prediction("b", {"x": 1}, 1)
    with pytest.raises(SDKInternalError):
        client.flush(5)
    assert [r["prediction_id"] for r in client.transport.records()] == ["b"]  # type: ignore[attr-defined]
    assert client.stats().dropped == {"invalid_record": 1}


def test_invalid_settings_raise_at_construction() -> None:
    for kwargs in ({"sample_rate": 2.0}, {"batch_size": 0}, {"latency_bounds_ms": [5, 1]}, {"pii": {"fields": {"x": "burn"}}}):
        with pytest.raises(ValueError):
            Client(None, None, "m", "v", transport=InMemoryTransport(), flush_at_exit=False, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="url"):
        Client("ftp://x", None, "m", "v", flush_at_exit=False)


def test_module_level_api_delegates_and_is_a_no_op_before_init() -> None:
    modelwatch.close()
    modelwatch.log_prediction("x", {}, 1)  # no client: nothing happens, nothing raises
    modelwatch.log_label("x", 1)
    assert modelwatch.flush(0.1) and modelwatch.get_client() is None
    transport = InMemoryTransport()
    client = modelwatch.init(None, None, "fraud", "v1", transport=transport, flush_at_exit=False)
    assert modelwatch.get_client() is client
    modelwatch.log_prediction("x", {"a": 1}, 1, score=0.2, probabilities={"1": 0.2})
    modelwatch.log_label("x", 1)
    assert modelwatch.flush(5)
    assert transport.records()[0]["probabilities"] == {"1": 0.2}
    assert len(transport.records("/v1/labels")) == 1
    second = modelwatch.init(None, None, "fraud", "v2", transport=InMemoryTransport(), flush_at_exit=False)
    assert client.closed and modelwatch.get_client() is second
    assert modelwatch.close(1) and second.closed and modelwatch.get_client() is None


def test_debug_mode_defaults_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELWATCH_SDK_DEBUG", "1")
    with Client(None, None, "m", "v", transport=InMemoryTransport(), flush_at_exit=False) as client:
        with pytest.raises(TypeError):
            client.log_prediction("a", 5, 1)  # type: ignore[arg-type]
    monkeypatch.setenv("MODELWATCH_SDK_DEBUG", "0")
    with Client(None, None, "m", "v", transport=InMemoryTransport(), flush_at_exit=False) as client:
        client.log_prediction("a", 5, 1)  # type: ignore[arg-type]
        assert client.stats().internal_errors == 1
    assert client.closed


def test_transport_factory_like_sentry() -> None:
    made: list[tuple[str | None, str | None]] = []

    def factory(url: str | None, token: str | None) -> InMemoryTransport:
        made.append((url, token))
        return InMemoryTransport()

    client = Client("http://collector:8000", "tok", "m", "v", transport=factory, flush_at_exit=False)
    assert made == [("http://collector:8000", "tok")] and isinstance(client.transport, InMemoryTransport)
    client.close(0.1)
    with pytest.raises(TypeError):
        Client(None, None, "m", "v", transport=lambda url, token: object(), flush_at_exit=False)


@pytest.mark.parametrize("debug", [False, True])
def test_unencodable_records_lose_only_themselves(make_client: MakeClient, debug: bool) -> None:
    # Records are encoded in chunks; after a refusal they go one by one for a while, then in
    # chunks again: every good record ships once, in order.
    circular: dict[str, Any] = {}
    circular["self"] = circular
    client = make_client(debug=debug, batch_size=1000)
    for i in range(400):
        features: dict[str, Any] = {"x": float(i)}
        if i == 7:
            features["note"] = "lone \ud800 surrogate"  # not valid Unicode: cannot be UTF-8
        elif i == 70:
            features["nested"] = circular
        elif i in (100, 300):
            features["x"] = float("nan")  # cleaned to null, the record ships
        client.log_prediction(f"p{i}", features, 1)
    assert not client.flush(5)  # two records could not be delivered
    shipped = client.transport.records()  # type: ignore[attr-defined]
    assert [r["prediction_id"] for r in shipped] == [f"p{i}" for i in range(400) if i not in (7, 70)]
    by_id = {r["prediction_id"]: r["features"] for r in shipped}
    assert by_id["p100"] == by_id["p300"] == {"x": None} and by_id["p399"] == {"x": 399.0}
    assert client.stats().dropped == {"invalid_record": 2}
    assert client.stats().internal_errors == 0
