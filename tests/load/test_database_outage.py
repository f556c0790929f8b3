"""PostgreSQL stopped for 60 s in the middle of SDK traffic, then started again.

Time runs 60x: each real second of traffic is stamped one minute later than the last, so the
minute of outage spans an hour of SLO windows. Checked: while the database is down the alert
cycle fails loudly (writes nothing); right after restart, before the SDK's backlog is in (the
collector is frozen with SIGSTOP meanwhile), the availability SLO over the gap is no_data /
low_traffic — never "ok"; once the backlog is delivered, every prediction and every counted
request is stored exactly once and the same evaluation says "ok".
"""

from __future__ import annotations

import signal
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

import modelwatch
from alerts.cycle import run_alert_cycle
from config.loader import load_monitors
from store.bootstrap import create_schema
from store.engine import create_engine
from store.tokens import create_token
from tests.conftest import REPO_ROOT
from tests.integration.conftest import CollectorProcess
from tests.load.conftest import paced

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

CONFIG = REPO_ROOT / "examples" / "monitors.yaml"
PER_S = 20  # calls per real second = per simulated minute
BEFORE_S, OUTAGE_S, AFTER_S = 15, 60, 5
FEATURES = {"amount": 12.5, "account_age_days": 400, "country": "DE", "channel": "web", "payment_method": "card"}


def test_sixty_seconds_without_postgres_lose_nothing_and_never_read_as_slo_met(
        postgres_server, pg_database_url: str, tmp_path: Path) -> None:
    engine = create_engine(pg_database_url, hide_parameters=True)
    create_schema(engine)
    token = create_token(engine, ["ingest"], "outage")
    monitors = load_monitors(CONFIG)
    collector = CollectorProcess(pg_database_url, CONFIG, tmp_path / "collector.log")
    collector.start()
    assert collector.process is not None
    process = collector.process
    client = modelwatch.Client(collector.url, token, "fraud-detector", "v1", debug=True, flush_at_exit=False,
                               flush_interval=0.2, batch_size=200, retry_deadline=150.0, backoff_cap=1.0)
    sim_start = (datetime.now(timezone.utc) - timedelta(hours=3)).replace(second=0, microsecond=0)
    sent = 0

    def traffic(seconds: float) -> None:
        nonlocal sent

        def one(i: int) -> None:
            n = sent + i
            at = sim_start + timedelta(minutes=n / PER_S)  # 1 real s = 1 simulated minute
            client.log_prediction(f"p-{n}", FEATURES, "1", score=0.9, latency_ms=3.0, timestamp=at.timestamp())

        sent += paced(PER_S, seconds, one)

    def sim_now() -> datetime:
        return sim_start + timedelta(minutes=sent / PER_S)

    def availability() -> sa.Row:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT state, events_total, firing_severities FROM slo_status"
                                        " WHERE slo = 'availability'")).one()

    try:
        traffic(BEFORE_S)
        assert client.flush(timeout=30)
        stopped_at = sim_now()
        postgres_server.stop()
        try:
            traffic(OUTAGE_S / 2)
            with pytest.raises(DBAPIError):
                run_alert_cycle(engine, monitors, sim_now())  # no evaluation can be stored: it fails
            traffic(OUTAGE_S / 2)
            process.send_signal(signal.SIGSTOP)  # keep the SDK backlog out for a moment
        finally:
            postgres_server.start()
        engine.dispose()
        try:
            gap_end = sim_now()
            report = run_alert_cycle(engine, monitors, gap_end)
            gap = availability()
        finally:
            process.send_signal(signal.SIGCONT)
        # The hour of gap is not "met": the windows that decide have no events.
        assert gap.state in ("no_data", "low_traffic"), gap
        assert gap.firing_severities == "" and report.firing == 0
        assert gap_end - stopped_at >= timedelta(minutes=OUTAGE_S - 1)

        traffic(AFTER_S)
        assert client.flush(timeout=90), "the SDK backlog was not delivered after the restart"
        stats = client.stats()
        client.close()
    finally:
        collector.stop()

    assert stats.dropped == {}
    with engine.connect() as conn:
        stored, distinct = conn.execute(sa.text("SELECT count(*), count(DISTINCT prediction_id) FROM predictions")).one()
        requests = conn.execute(sa.text("SELECT sum(requests) FROM request_counters")).scalar_one()
    assert stored == distinct == sent and requests == sent, (stored, distinct, requests, sent)
    # With the backlog in, the same window end evaluates on real counts.
    run_alert_cycle(engine, monitors, gap_end + timedelta(seconds=1))
    after = availability()
    print(f"\navailability over the gap: {gap.state} ({gap.events_total:.0f} events); with the backlog: "
          f"{after.state} ({after.events_total:.0f} events); {sent} predictions stored once")
    assert after.state == "ok" and after.events_total > gap.events_total, (gap, after)
    engine.dispose()
