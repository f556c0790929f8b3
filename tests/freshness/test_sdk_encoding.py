"""The SDK's ``feature_timestamp``: one time or per-feature times on the wire as ``feature_time``,
converted off the serving path; values that are not times are dropped and counted, never raised."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

import modelwatch
from modelwatch import Client, InMemoryTransport
from modelwatch.payloads import EncodeStats, feature_time, prediction_record

T = 1764072000.25  # the prediction's time in every record here


@pytest.fixture
def client() -> Iterator[Client]:
    # debug=True: an SDK bug re-raises here, so "never raises" below is about bad input only.
    made = Client(None, None, "fraud", "v1", transport=InMemoryTransport(), debug=True, flush_at_exit=False,
                  flush_interval=60.0)
    yield made
    made.close(timeout=1.0)


def shipped(client: Client) -> list[dict[str, Any]]:
    assert client.flush(timeout=5.0)
    transport = client.transport
    assert isinstance(transport, InMemoryTransport)
    return [r for payload in transport.payloads("/v1/predictions") for r in payload["records"]]


def dropped(client: Client) -> dict[str, int]:
    return dict(client.stats().dropped)


def item(fresh: Any) -> tuple[Any, ...]:
    return ("p", T, {"amount": 1.0}, "1", None, None, None, None, None, fresh)


def test_one_timestamp_for_all_features_in_any_accepted_form(client: Client) -> None:
    client.log_prediction("a", {"amount": 1.0}, "1", timestamp=T, feature_timestamp=T - 90.5)
    client.log_prediction("b", {"amount": 1.0}, "1", timestamp=T, feature_timestamp=1764000000)
    client.log_prediction("c", {"amount": 1.0}, "1", timestamp=T,
                          feature_timestamp=dt.datetime(2025, 11, 25, 12, 0, 0, tzinfo=dt.timezone.utc))
    client.log_prediction("d", {"amount": 1.0}, "1", timestamp=T, feature_timestamp=dt.datetime(2025, 11, 25, 12))  # naive = UTC
    client.log_prediction("e", {"amount": 1.0}, "1", timestamp=T, feature_timestamp="2025-11-25T13:00:00+01:00")
    client.log_prediction("f", {"amount": 1.0}, "1", timestamp=T)
    records = {r["prediction_id"]: r for r in shipped(client)}
    assert records["a"]["feature_time"] == T - 90.5
    assert records["b"]["feature_time"] == 1764000000.0
    assert records["c"]["feature_time"] == records["d"]["feature_time"] == records["e"]["feature_time"] == 1764072000.0
    assert "feature_time" not in records["f"]  # nothing sent, no key: old collectors see old records
    assert dropped(client) == {}


def test_per_feature_timestamps_are_a_compact_mapping(client: Client) -> None:
    times = {"amount": T - 1.5, "country": dt.datetime(2025, 11, 25, 11, 0, tzinfo=dt.timezone.utc), "channel": None}
    client.log_prediction("a", {"amount": 1.0, "country": "DE"}, "1", timestamp=T, feature_timestamp=times)
    [record] = shipped(client)
    assert record["feature_time"] == {"amount": T - 1.5, "country": 1764068400.0}  # None: no time for that feature
    assert dropped(client) == {}


def test_module_level_log_prediction_passes_it_on() -> None:
    transport = InMemoryTransport()
    modelwatch.init(None, None, "fraud", "v1", transport=transport, debug=True, flush_at_exit=False)
    try:
        modelwatch.log_prediction("a", {"amount": 1.0}, "1", timestamp=T, feature_timestamp={"amount": T - 3})
        assert modelwatch.flush(timeout=5.0)
        [record] = transport.payloads("/v1/predictions")[0]["records"]
        assert record["feature_time"] == {"amount": T - 3}
    finally:
        modelwatch.close(timeout=1.0)


@pytest.mark.parametrize("bad", ["yesterday", float("nan"), float("inf"), True, [1764072000], object()])
def test_a_value_that_is_not_a_time_is_dropped_and_counted_never_raised(client: Client, bad: Any) -> None:
    client.log_prediction("a", {"amount": 1.0}, "1", timestamp=T, feature_timestamp=bad)  # must not raise
    client.log_prediction("b", {"amount": 1.0}, "1", timestamp=T, feature_timestamp={"amount": bad, "country": T - 7})
    records = {r["prediction_id"]: r for r in shipped(client)}
    assert set(records) == {"a", "b"}  # the predictions themselves ship
    assert "feature_time" not in records["a"]
    assert records["b"]["feature_time"] == {"country": T - 7}  # only the bad entry is left out
    assert dropped(client) == {"invalid_feature_time": 2}
    assert client.stats().internal_errors == 0


def test_the_drops_reach_the_collector_with_the_counters(client: Client) -> None:
    client.log_prediction("a", {"amount": 1.0}, "1", timestamp=T, feature_timestamp="not a time")
    shipped(client)
    transport = client.transport
    assert isinstance(transport, InMemoryTransport)
    [counters] = transport.payloads("/v1/counters")
    assert counters["dropped"] == {"invalid_feature_time": 1}


def test_fast_path_raises_so_the_record_is_rebuilt_cleaned() -> None:
    # Without stats (the fast path) a bad value raises, and encode_items rebuilds with stats.
    with pytest.raises((TypeError, ValueError)):
        prediction_record(item("bad"), None, None)
    stats = EncodeStats()
    assert "feature_time" not in prediction_record(item("bad"), None, None, stats)
    assert stats.invalid_feature_time == 1
    assert prediction_record(item({}), None, None).keys() == {"prediction_id", "timestamp", "features", "prediction"}


def test_feature_time_wire_form() -> None:
    assert feature_time(5) == 5.0
    assert feature_time({"a": "2026-01-01T00:00:00Z", 7: 3.5, "b": None}) == {"a": 1767225600.0, "7": 3.5}
    with pytest.raises(TypeError):
        feature_time(None)
