"""The SDK against a real HTTP server on loopback: keep-alive, retries, Retry-After, refused
connections, lost answers (retried with the same batch id, stored once)."""

from __future__ import annotations

import time
from collections.abc import Callable

from modelwatch import Client, HttpTransport

from .conftest import CollectorStub, wait_until

MakeClient = Callable[..., Client]


def test_delivers_predictions_labels_and_counters_with_auth(make_client: MakeClient, collector: CollectorStub) -> None:
    client = make_client(url=collector.url, token="s3cret", transport=None, batch_size=10)
    for i in range(25):
        client.log_prediction(f"r{i}", {"amount": i * 1.5, "country": "DE"}, i % 2, score=0.5, latency_ms=3.0)
    client.log_label("r1", 1)
    assert client.flush(5)
    assert sorted(r["prediction_id"] for r in collector.records()) == sorted(f"r{i}" for i in range(25))
    assert len(collector.records("/v1/labels")) == 1
    (counters,) = collector.accepted("/v1/counters")
    assert counters["counters"][0]["requests"] == 25
    headers = collector.requests("/v1/predictions")[0].headers
    assert headers["Authorization"] == "Bearer s3cret"
    assert headers["Content-Type"] == "application/json"
    assert collector.connections == 1  # one kept-alive connection for all 5 requests


def test_503_with_retry_after_is_honoured(make_client: MakeClient, collector: CollectorStub) -> None:
    client = make_client(url=collector.url, transport=None, backoff_base=5.0)
    client.log_prediction("a", {}, 1)
    collector.fail_next(2, 503, retry_after="0.2")
    start = time.monotonic()
    assert client.flush(5)
    elapsed = time.monotonic() - start
    assert 0.4 <= elapsed < 2.0  # two Retry-After waits, not the 5 s backoff base
    attempts = collector.requests("/v1/predictions")
    assert len(attempts) == 3 and len({a.payload["batch_id"] for a in attempts}) == 1
    assert [r["prediction_id"] for r in collector.records()] == ["a"]


def test_lost_answer_is_retried_with_same_batch_id_and_stored_once(make_client: MakeClient, collector: CollectorStub) -> None:
    client = make_client(url=collector.url, transport=None)
    for i in range(5):
        client.log_prediction(f"r{i}", {}, 1)
    collector.drop_next(1)  # stored, then the connection dies before the answer
    assert client.flush(5)
    attempts = collector.requests("/v1/predictions")
    assert len(attempts) == 2 and attempts[0].payload == attempts[1].payload
    assert len(collector.records()) == 5  # the collector deduplicated the retry


def test_connection_refused_is_retried_until_the_deadline(make_client: MakeClient, refused_url: str) -> None:
    client = make_client(url=refused_url, transport=None, retry_deadline=0.3, backoff_base=0.02, backoff_cap=0.05)
    client.log_prediction("a", {}, 1)
    start = time.monotonic()
    assert not client.flush(5)
    assert time.monotonic() - start < 2.0
    assert client.stats().dropped == {"retry_deadline": 1}
    assert client.stats().pending_counter_batches == 1


def test_recovers_when_the_collector_comes_back(make_client: MakeClient, collector: CollectorStub) -> None:
    client = make_client(url=collector.url, transport=None, flush_interval=0.05)
    collector.fail_next(5, 502)
    for i in range(3):
        client.log_prediction(f"r{i}", {}, 1)
    assert wait_until(lambda: len(collector.records()) == 3 and len(collector.accepted("/v1/counters")) >= 1, timeout=5)


def test_server_closing_idle_keepalive_connection_is_survived(make_client: MakeClient, collector: CollectorStub) -> None:
    transport = HttpTransport(collector.url, "tok")
    assert transport.send("/v1/labels", b'{"batch_id":"1","records":[]}', 2).ok
    assert transport._conn is not None
    transport._conn.sock.close()  # type: ignore[union-attr]  # as if the server had closed it
    transport._conn.sock = None  # type: ignore[union-attr]
    assert transport.send("/v1/labels", b'{"batch_id":"2","records":[]}', 2).ok
    transport.close()


def test_url_prefix_is_kept(collector: CollectorStub) -> None:
    transport = HttpTransport(collector.url + "/api/", "tok")
    assert transport.send("/v1/labels", b'{"batch_id":"1","records":[]}', 2).ok
    assert collector.received[0].path == "/api/v1/labels"
    transport.close()
