"""Soak: a real collector process on PostgreSQL under twice its nominal load for a minute.

Nominal load, as this test defines it: one serving process logging 500 predictions per second
through the SDK, every one sampled (sample_rate 1.0) — a busy model's full traffic. The test runs
2x that (1000/s) for 60 s after a 10 s warm-up, then checks every row is stored exactly once,
the request counters add up to the calls made, and the collector's resident memory stayed flat
(the mean of the last third of the run within 10% + 16 MiB of the first third's).
"""

from __future__ import annotations

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
SOAK_S = 60.0
FEATURES = {"amount": 12.5, "account_age_days": 400, "items_in_cart": 3, "hour_of_day": 14, "ip_risk_score": 0.2,
            "country": "DE", "channel": "web", "payment_method": "card"}


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
    third = len(samples) // 3
    first = statistics.mean(rss for _, rss in samples[:third])
    last = statistics.mean(rss for _, rss in samples[-third:])
    print(f"\nsoak: {sent} predictions at {achieved:.0f}/s (2x nominal {NOMINAL_PER_S}/s); collector RSS "
          f"first third {first / 2**20:.1f} MiB, last third {last / 2**20:.1f} MiB, peak {max(r for _, r in samples) / 2**20:.1f} MiB")
    assert last <= first * 1.10 + 16 * 2**20, f"RSS grew from {first / 2**20:.1f} to {last / 2**20:.1f} MiB"
