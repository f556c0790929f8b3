"""Exact request counters per minute, and drops by reason, accumulated on the serving path.

Every ``log_prediction`` call is counted here, sampled or not; the background thread swaps the
accumulated values out and ships them as deltas (``POST /v1/counters``). One short critical
section per call under an uncontended lock keeps the increments exact across threads.
"""

from __future__ import annotations

import math
import threading
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "DEFAULT_BOUNDS_MS",
    "CounterSnapshot",
    "MinuteCounts",
    "RequestCounters",
    "check_bounds",
    "counters_payload",
]

DEFAULT_BOUNDS_MS: tuple[float, ...] = (5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000)

# Row layout of one minute's mutable counts (a list is cheaper to bump than an object).
_REQUESTS, _ERRORS, _LAT_COUNT, _LAT_SUM, _BUCKETS = 0, 1, 2, 3, 4
_INF = math.inf


def _as_float(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return -1.0  # not a number: the call counts as a request, not as a latency


def check_bounds(bounds_ms: Iterable[float]) -> tuple[float, ...]:
    """Return the bucket bounds as a tuple; raises ValueError unless finite, positive, increasing."""
    bounds = tuple(bounds_ms)
    if not bounds:
        raise ValueError("latency bucket bounds must not be empty")
    for value in bounds:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < _INF:
            raise ValueError(f"latency bucket bound {value!r} is not a positive finite number")
    if any(b <= a for a, b in zip(bounds, bounds[1:])):
        raise ValueError(f"latency bucket bounds must be strictly increasing, got {list(bounds)}")
    return bounds


@dataclass(frozen=True)
class MinuteCounts:
    """Counts for one minute; ``latency_buckets`` has ``len(bounds) + 1`` non-cumulative counts."""

    minute: int
    requests: int
    errors: int
    latency_count: int
    latency_sum_ms: float
    latency_buckets: tuple[int, ...]


@dataclass(frozen=True)
class CounterSnapshot:
    """Deltas swapped out of a RequestCounters: minutes in order, drops by reason."""

    minutes: tuple[MinuteCounts, ...] = ()
    dropped: Mapping[str, int] = field(default_factory=dict)

    def is_empty(self) -> bool:
        """Return True when there is nothing to report."""
        return not self.minutes and not self.dropped


class RequestCounters:
    """Thread-safe per-minute request counts, latency histogram and drops by reason.

    Latency is recorded for calls without an error only (the latency SLI is over successful
    requests; errors count against availability); a missing, negative or non-finite latency is
    not recorded in the histogram.
    """

    def __init__(self, bounds_ms: Sequence[float] = DEFAULT_BOUNDS_MS) -> None:
        self.bounds_ms = check_bounds(bounds_ms)
        self._width = _BUCKETS + len(self.bounds_ms) + 1
        self.reinit()

    def reinit(self) -> None:
        """Forget everything and replace the lock (used in a forked child)."""
        self._lock = threading.Lock()
        self._minutes: dict[int, list[Any]] = {}
        self._dropped: dict[str, int] = {}
        self._dropped_total: dict[str, int] = {}

    def record(self, timestamp: float, error: bool, latency_ms: float | None) -> None:
        """Count one request at ``timestamp`` (epoch seconds)."""
        minute = int(timestamp // 60) * 60
        latency = -1.0
        if not error and latency_ms is not None:
            latency = latency_ms if type(latency_ms) is float else _as_float(latency_ms)
        bucket = bisect_left(self.bounds_ms, latency) if 0.0 <= latency < _INF else -1
        with self._lock:
            row = self._minutes.get(minute)
            if row is None:
                row = self._minutes[minute] = [0, 0, 0, 0.0] + [0] * (self._width - _BUCKETS)
            row[_REQUESTS] += 1
            if error:
                row[_ERRORS] += 1
            elif bucket >= 0:
                row[_LAT_COUNT] += 1
                row[_LAT_SUM] += latency
                row[_BUCKETS + bucket] += 1

    def drop(self, reason: str, count: int = 1) -> None:
        """Count ``count`` items lost for ``reason`` (reported with the next counters batch)."""
        with self._lock:
            self._dropped[reason] = self._dropped.get(reason, 0) + count
            self._dropped_total[reason] = self._dropped_total.get(reason, 0) + count

    def dropped_total(self) -> dict[str, int]:
        """Return every drop counted since creation (or fork), by reason."""
        with self._lock:
            return dict(self._dropped_total)

    def swap(self) -> CounterSnapshot:
        """Return the deltas accumulated since the last swap and reset them to zero."""
        with self._lock:
            minutes, self._minutes = self._minutes, {}
            dropped, self._dropped = self._dropped, {}
        rows = tuple(
            MinuteCounts(m, r[_REQUESTS], r[_ERRORS], r[_LAT_COUNT], r[_LAT_SUM], tuple(r[_BUCKETS:]))
            for m, r in sorted(minutes.items())
        )
        return CounterSnapshot(rows, {k: v for k, v in dropped.items() if v})


def counters_payload(
    model: str, version: str, batch_id: str, bounds_ms: Sequence[float], snapshot: CounterSnapshot
) -> dict[str, Any]:
    """Return the ``POST /v1/counters`` body (docs/protocol.md) for one snapshot."""
    return {
        "model": model,
        "version": version,
        "batch_id": batch_id,
        "bounds_ms": list(bounds_ms),
        "counters": [
            {
                "minute": c.minute,
                "requests": c.requests,
                "errors": c.errors,
                "latency_count": c.latency_count,
                "latency_sum_ms": c.latency_sum_ms,
                "latency_buckets": list(c.latency_buckets),
            }
            for c in snapshot.minutes
        ],
        "dropped": dict(snapshot.dropped),
    }
