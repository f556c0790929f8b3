"""Soak: a real collector process on PostgreSQL under twice its nominal load for three minutes.

Nominal load: 500 sampled predictions per second into one collector process. That is the
README's quick start at production scale: a busy model serving 5,000 requests/s with
``sample_rate=0.1`` ships 500 sampled payloads/s (8 features, slices, score, latency each); the
request counters, aggregated per minute by the SDK, add one small request per flush. It is a sizing
figure, not the ceiling: bench/ingest measured ~38k rows/s end to end on the 2-core development
machine, so a collector at nominal load has ample headroom and 2x still leaves room for the
other processes the suite runs beside it. The test sends 2x nominal (1,000/s, every call sampled
at sample_rate 1.0, one in 500 an error) for MODELWATCH_SOAK_S seconds (default 180; set it
lower for a quick local run) after a 10 s warm-up, then checks:

- every prediction is stored exactly once, and the request counters add up to the calls made;
- the collector's resident memory is flat: the median RSS over the second half of the soak is
  within 4% + 8 MiB of the first half's. The halves' medians sit half a run apart, so a leak of
  b bytes per row shows as b x 1,000/s x 90 s: over the default 180 s, anything above ~170 bytes
  per row fails (15 MiB on a ~175 MiB collector; the 60 s version of this test let ~900 through),
  while a one-off step as the allocator settles counts once, at its height, whatever the length
  of the run. The growth rate over the whole soak is printed too.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

import modelwatch
from store.bootstrap import create_schema
from store.engine import create_engine
from store.tokens import create_token
from tests.conftest import REPO_ROOT
from tests.integration.conftest import CollectorProcess
from tests.load.conftest import paced, rss_bytes

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

NOMINAL_PER_S = 500
RATE = 2 * NOMINAL_PER_S
WARMUP_S = 10.0
SOAK_S = float(os.environ.get("MODELWATCH_SOAK_S", "180"))
MiB = 2**20
FEATURES = {"amount": 12.5, "account_age_days": 400, "items_in_cart": 3, "hour_of_day": 14, "ip_risk_score": 0.2,
            "country": "DE", "channel": "web", "payment_method": "card"}


@pytest.mark.timeout(SOAK_S + 240)  # the suite's 300 s per test is too short for the default soak
def test_collector_soak_at_twice_nominal_load(postgres_server, pg_database_url: str, tmp_path: Path) -> None:
    engine = create_engine(pg_database_url)
    create_schema(engine)
    token = create_token(engine, ["ingest"], "soak")
    collector = CollectorProcess(pg_database_url, REPO_ROOT / "examples" / "monitors.yaml", tmp_path / "collector.log")
    collector.start()
    assert collector.process is not None
    process = collector.process
    client = modelwatch.Client(collector.url, token, "fraud-detector", "v1", debug=True, flush_at_exit=False,
                               flush_interval=0.25, batch_size=500, max_queue_size=50_000, retry_deadline=60.0,
                               backoff_cap=1.0)
    samples: list[tuple[float, int]] = []
    stop = threading.Event()

    def sample_rss() -> None:
        began = time.monotonic()
        while not stop.wait(1.0):
            samples.append((time.monotonic() - began, rss_bytes(process.pid)))

    def log(i: int) -> None:
        client.log_prediction(f"soak-{i}", FEATURES, "1" if i % 7 else "0", score=0.8, latency_ms=4.0 + i % 20,
                              error="Timeout" if i % 500 == 0 else None, slices={"channel": "web", "country": "DE"})

    try:
        sent = paced(RATE, WARMUP_S, log)
        sampler = threading.Thread(target=sample_rss, daemon=True)
        sampler.start()
        began = time.monotonic()
        sent += paced(RATE, SOAK_S, lambda i: log(i + sent))
        achieved = (sent - RATE * WARMUP_S) / (time.monotonic() - began)
        stop.set()
        sampler.join(timeout=5)
        assert client.flush(timeout=60), "the collector did not catch up with the load"
        stats = client.stats()
        client.close()
        assert stats.dropped == {}, stats.dropped
    finally:
        stop.set()
        collector.stop()

    with engine.connect() as conn:
        stored, distinct = conn.execute(sa.text(
            "SELECT count(*), count(DISTINCT prediction_id) FROM predictions")).one()
        requests, errors = conn.execute(sa.text("SELECT sum(requests), sum(errors) FROM request_counters")).one()
    engine.dispose()
    assert stored == distinct == sent, (stored, distinct, sent)
    assert requests == sent and errors == len(range(0, sent, 500))

    assert achieved >= 0.95 * RATE, f"offered {achieved:.0f}/s, wanted {RATE}/s"
    assert len(samples) >= 10, f"only {len(samples)} RSS samples: too short a soak to judge memory"
    half = len(samples) // 2
    first = statistics.median(rss for _, rss in samples[:half])
    second = statistics.median(rss for _, rss in samples[half:])
    slope = statistics.linear_regression([t for t, _ in samples], [r for _, r in samples]).slope
    print(f"\nsoak: {sent} predictions in {SOAK_S:.0f} s at {achieved:.0f}/s (2x nominal {NOMINAL_PER_S}/s); "
          f"collector RSS median first half {first / MiB:.1f} MiB, second half {second / MiB:.1f} MiB, "
          f"peak {max(r for _, r in samples) / MiB:.1f} MiB, trend {slope * 60 / MiB:+.2f} MiB/min")
    assert second <= first * 1.04 + 8 * MiB, f"RSS grew from {first / MiB:.1f} to {second / MiB:.1f} MiB (medians)"
