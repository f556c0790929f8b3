from __future__ import annotations

import threading

import pytest

from modelwatch.counters import DEFAULT_BOUNDS_MS, RequestCounters, check_bounds, counters_payload


def test_buckets_are_non_cumulative_with_le_semantics() -> None:
    counters = RequestCounters([5, 10])
    for latency in (0.0, 5.0, 5.01, 10.0, 10.5, 99999.0):
        counters.record(120.0, False, latency)
    (minute,) = counters.swap().minutes
    assert minute.latency_buckets == (2, 2, 2)  # <=5, <=10, +Inf
    assert minute.latency_count == 6
    assert minute.latency_sum_ms == pytest.approx(0 + 5 + 5.01 + 10 + 10.5 + 99999)


def test_minutes_errors_and_missing_latency() -> None:
    counters = RequestCounters()
    counters.record(60.0, False, 3)  # ints are fine
    counters.record(119.9, True, 7.0)  # an error: counted as request and error, not as latency
    counters.record(120.0, False, None)
    counters.record(120.5, False, float("nan"))
    counters.record(121.0, False, float("inf"))
    counters.record(121.0, False, -1.0)
    counters.record(122.0, False, "not a number")  # type: ignore[arg-type]
    snapshot = counters.swap()
    first, second = snapshot.minutes
    assert (first.minute, first.requests, first.errors, first.latency_count) == (60, 2, 1, 1)
    assert (second.minute, second.requests, second.errors, second.latency_count) == (120, 5, 0, 0)
    assert len(first.latency_buckets) == len(DEFAULT_BOUNDS_MS) + 1
    assert counters.swap().is_empty()  # deltas: reset after a swap


def test_exact_under_threads() -> None:
    counters = RequestCounters()
    n_threads, per_thread = 8, 5000

    def hammer() -> None:
        for i in range(per_thread):
            counters.record(600.0, i % 10 == 0, float(i % 300))
            if i % 100 == 0:
                counters.drop("buffer_full")

    threads = [threading.Thread(target=hammer) for _ in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    snapshot = counters.swap()
    (minute,) = snapshot.minutes
    assert minute.requests == n_threads * per_thread
    assert minute.errors == n_threads * per_thread // 10
    assert minute.latency_count == sum(minute.latency_buckets) == minute.requests - minute.errors
    assert snapshot.dropped == {"buffer_full": n_threads * per_thread // 100}
    assert counters.dropped_total() == {"buffer_full": n_threads * per_thread // 100}


def test_payload_matches_protocol() -> None:
    counters = RequestCounters([10, 100])
    counters.record(1764072000.5, False, 42.0)
    counters.drop("non_finite", 2)
    payload = counters_payload("fraud", "v2", "abc", counters.bounds_ms, counters.swap())
    assert payload == {
        "model": "fraud",
        "version": "v2",
        "batch_id": "abc",
        "bounds_ms": [10, 100],
        "counters": [
            {
                "minute": 1764072000,
                "requests": 1,
                "errors": 0,
                "latency_count": 1,
                "latency_sum_ms": 42.0,
                "latency_buckets": [0, 1, 0],
            }
        ],
        "dropped": {"non_finite": 2},
    }


@pytest.mark.parametrize("bounds", [[], [10, 5], [0, 5], [5, float("inf")], [5, 5]])
def test_bad_bounds(bounds: list[float]) -> None:
    with pytest.raises(ValueError):
        check_bounds(bounds)
