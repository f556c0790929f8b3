"""Serving-path overhead of ``modelwatch.Client.log_prediction``, next to prometheus_client.

Times each call on the caller's thread with ``time.perf_counter_ns`` (after a warm-up) while the
SDK's background thread runs and ships to a transport that discards the bytes (so encoding,
NaN cleaning and redaction happen for real, off the caller's thread, competing for the GIL).
The "worker" figure in the notes is what that one background thread shipped per second
(timed loop plus final drain): the SDK's own ceiling per process, set mostly by ``json``
formatting floats. In the same run it times
``prometheus_client.Counter.inc()`` on its own CollectorRegistry.

Targets (issue 2): median < 5 us, p99 < 50 us, median at most 10x the counter's median.

    python bench/sdk_overhead.py [--calls 200000] [--warmup 20000]
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from modelwatch import Client, RedactionPolicy, Transport, TransportResult  # noqa: E402

ACK = b'{"accepted":500,"duplicates":0,"rejected":[]}'


class DiscardTransport(Transport):
    """Accepts every batch at once and keeps nothing but counts."""

    def __init__(self) -> None:
        self.requests = 0
        self.bytes = 0

    def send(self, path: str, body: bytes, timeout: float) -> TransportResult:
        self.requests += 1
        self.bytes += len(body)
        return TransportResult(200, ACK)


@dataclass(frozen=True)
class Timing:
    name: str
    median_ns: float
    p99_ns: float
    p999_ns: float
    max_ns: float
    note: str = ""


def make_features(rng: random.Random) -> dict[str, object]:
    """A realistic 25-feature payload: 20 numeric, 5 categorical."""
    features: dict[str, object] = {f"num_{i}": rng.gauss(0, 1) for i in range(20)}
    features.update({"country": "DE", "channel": "web", "device": "ios", "tier": "gold", "merchant": "m-1234"})
    return features


def time_calls(call: Callable[[int], None], n: int, warmup: int) -> list[int]:
    """Return per-call durations in ns of ``call(i)`` for i in range(n), after ``warmup`` calls."""
    for i in range(warmup):
        call(i)
    clock = time.perf_counter_ns
    durations = [0] * n
    gc.collect()
    for i in range(n):
        start = clock()
        call(i)
        durations[i] = clock() - start
    return durations


def summarise(name: str, durations: list[int], note: str = "") -> Timing:
    ordered = sorted(durations)
    n = len(ordered)
    return Timing(name, statistics.median(ordered), ordered[int(n * 0.99)], ordered[int(n * 0.999)], ordered[-1], note)


def bench_sdk(rate: float, n: int, warmup: int, pii: RedactionPolicy | None) -> Timing:
    transport = DiscardTransport()
    # The buffer holds every call, so each timed call takes the full path (count, sample, copy,
    # append) rather than the cheaper "buffer full" drop the worker's backlog would otherwise cause.
    client = Client(None, None, "bench", "v1", sample_rate=rate, transport=transport, pii=pii,
                    max_queue_size=n + warmup, flush_at_exit=False)
    features = make_features(random.Random(0))
    ids = [f"req-{i}" for i in range(n + warmup)]
    log = client.log_prediction

    def call(i: int) -> None:
        log(ids[i], features, 1, score=0.87, latency_ms=3.2)

    durations = time_calls(call, n, warmup)
    client.close(120)
    stats = client.stats()
    name = f"log_prediction rate={rate:g}" + (" +pii" if pii else "")
    note = f"shipped {stats.sent_predictions} in {transport.requests} requests, dropped {dict(stats.dropped) or 0}"
    return summarise(name, durations, note)


def bench_drain(n: int, pii: RedactionPolicy | None) -> float:
    """Return records/s for logging ``n`` calls as fast as possible and flushing them all:
    the background thread's ceiling (encoding, redaction, 500 records per request)."""
    transport = DiscardTransport()
    client = Client(None, None, "bench", "v1", transport=transport, pii=pii, max_queue_size=n, flush_at_exit=False)
    features = make_features(random.Random(0))
    ids = [f"req-{i}" for i in range(n)]
    start = time.perf_counter()
    for pid in ids:
        client.log_prediction(pid, features, 1, score=0.87, latency_ms=3.2)
    client.flush(300)
    elapsed = time.perf_counter() - start
    shipped = client.stats().sent_predictions
    client.close(10)
    return shipped / elapsed


def bench_prometheus(n: int, warmup: int) -> Timing:
    from prometheus_client import CollectorRegistry, Counter

    counter = Counter("bench_requests", "requests", registry=CollectorRegistry())
    inc = counter.inc

    def call(i: int) -> None:
        inc()

    return summarise("prometheus Counter.inc()", time_calls(call, n, warmup))


def bench_empty(n: int, warmup: int) -> Timing:
    def call(i: int) -> None:
        pass

    return summarise("empty call (timer floor)", time_calls(call, n, warmup))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--warmup", type=int, default=20_000)
    args = parser.parse_args()

    pii = RedactionPolicy(fields={"merchant": "hash"}, hash_key=b"bench-key")
    rows = [
        bench_empty(args.calls, args.warmup),
        bench_prometheus(args.calls, args.warmup),
        bench_sdk(1.0, args.calls, args.warmup, None),
        bench_sdk(0.1, args.calls, args.warmup, None),
        bench_sdk(1.0, args.calls, args.warmup, pii),
    ]
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; "
          f"{args.calls} timed calls each after {args.warmup} warm-up; 25 features; times in microseconds")
    print(f"{'case':34} {'median':>8} {'p99':>8} {'p99.9':>8} {'max':>9}  note")
    for row in rows:
        print(f"{row.name:34} {row.median_ns / 1e3:8.2f} {row.p99_ns / 1e3:8.2f} {row.p999_ns / 1e3:8.2f} "
              f"{row.max_ns / 1e3:9.1f}  {row.note}")

    drain = bench_drain(min(args.calls, 100_000), None)
    drain_pii = bench_drain(min(args.calls, 100_000), pii)
    print(f"background thread ceiling ({min(args.calls, 100_000)} calls logged then flushed, 500 per request): "
          f"{drain / 1e3:.0f}k records/s, {drain_pii / 1e3:.0f}k records/s with the PII policy")

    counter_median = rows[1].median_ns
    sdk_rows = rows[2:]
    worst_median = max(r.median_ns for r in sdk_rows)
    worst_p99 = max(r.p99_ns for r in sdk_rows)
    checks = [
        ("median < 5 us", worst_median < 5_000, f"worst {worst_median / 1e3:.2f} us"),
        ("p99 < 50 us", worst_p99 < 50_000, f"worst {worst_p99 / 1e3:.2f} us"),
        ("median <= 10x Counter.inc()", worst_median <= 10 * counter_median,
         f"worst {worst_median / counter_median:.1f}x of {counter_median / 1e3:.2f} us"),
    ]
    print()
    for label, ok, detail in checks:
        print(f"target {label:30} {'PASS' if ok else 'FAIL'}  ({detail})")
    return 0 if all(ok for _, ok, _ in checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
