"""bench/alerts: one alert cycle over 1,000 SLOs — read counts, evaluate, route, enqueue.

Builds ``--models`` models with two SLOs each (availability 99.9 %, latency 99 % under 100 ms:
1,000 SLOs by default) in a throwaway PostgreSQL (or MODELWATCH_BENCH_DATABASE_URL, or a SQLite
file with --sqlite), with 30 days of request counters per model: the last 3 days one row per
minute, the 27 days before one row per hour (the long windows read those as hourly sums either
way). ``--outages`` models are failing for the last 12 minutes, so pages are routed, grouped and
enqueued. Then, as the scheduler does:

- cycle 1 (cold): no hourly rollup exists yet; every SLO is further behind than a cycle's
  rollup budget, so the cycle reads its 30-day hour rings straight from request_counters;
- the rollup build the scheduler runs after the alert cycle (off the paging path): 30 days of
  hourly SLI sums per SLO, once per SLO, ever;
- cycles 2 and 3 (steady state): what every scheduler cycle costs;
- cycle 4: after a restart (a new engine; the rollup is in the store, so it stays warm).

It prints each cycle's time against the target (under 5 s for 1,000 SLOs), split into reading
counts from the store, pure evaluation, and the locked write (state, routing, outbox); with
``--repeat N`` the sequence runs N times on the same data (state reset) and medians follow.

    python bench/alerts.py [--models 500] [--sqlite] [--outages 25] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

TARGET_S = 5.0
BUCKETS = '{"5": 2, "10": 8, "25": 40, "50": 20, "100": 20, "250": 0, "500": 0, "1000": 0, "2500": 0, "5000": 0, "10000": 0, "+Inf": 0}'


def monitors(n_models: int):  # type: ignore[no-untyped-def]
    from config.loader import parse_monitors

    slos = [{"name": "availability", "kind": "availability", "objective": 0.999},
            {"name": "latency", "kind": "latency", "objective": 0.99, "threshold_ms": 100}]
    models = [{"name": f"model-{i:04d}", "task": "binary", "positive_class": "1", "team": f"team-{i % 20}",
               "features": [{"name": "x", "type": "numeric"}], "slos": slos} for i in range(n_models)]
    return parse_monitors({
        "version": 1, "dashboard_url": "http://dashboard.local", "models": models,
        "routes": {"receiver": "pagerduty", "group_by": ["model", "slo", "severity"], "group_wait": "0s",
                   "routes": [{"receiver": "slack", "matchers": ['severity="ticket"']}]},
        "receivers": [{"name": "pagerduty", "type": "pagerduty", "routing_key_env": "PD_KEY"},
                      {"name": "slack", "type": "slack", "webhook_url_env": "SLACK_URL"}],
    })


def load_postgres(engine, n_models: int, outages: int, now: datetime) -> int:  # type: ignore[no-untyped-def]
    """Counters generated inside PostgreSQL (generate_series): no client round trips."""
    import sqlalchemy as sa

    end = now.replace(second=0, microsecond=0)
    params = {"end": end, "models": n_models, "outages": outages, "buckets": BUCKETS}
    minute_rows = """
        INSERT INTO request_counters (minute, model, version, batch_id, requests, errors, latency_count, latency_sum_ms, latency_buckets, dropped)
        SELECT :end - make_interval(mins => m), 'model-' || lpad(i::text, 4, '0'), 'v1', 'b', 90,
               CASE WHEN i < :outages AND m <= 12 THEN 90 WHEN mod(m, 97) = 0 THEN 1 ELSE 0 END,
               CASE WHEN i < :outages AND m <= 12 THEN 0 WHEN mod(m, 97) = 0 THEN 89 ELSE 90 END, 2700.0,
               CASE WHEN i < :outages AND m <= 12 THEN '{}'::jsonb ELSE CAST(:buckets AS jsonb) END, NULL
        FROM generate_series(0, :models - 1) i, generate_series(1, 3 * 1440) m"""
    hour_rows = """
        INSERT INTO request_counters (minute, model, version, batch_id, requests, errors, latency_count, latency_sum_ms, latency_buckets, dropped)
        SELECT date_trunc('hour', :end - interval '3 days') - make_interval(hours => h), 'model-' || lpad(i::text, 4, '0'),
               'v1', 'h', 5400, 3, 5400, 162000.0, CAST(:hour_buckets AS jsonb), NULL
        FROM generate_series(0, :models - 1) i, generate_series(0, 27 * 24 - 1) h"""
    hour_buckets = '{"5": 120, "10": 480, "25": 2400, "50": 1200, "100": 1200, "250": 0, "500": 0, "+Inf": 0}'
    with engine.begin() as conn:
        conn.execute(sa.text(minute_rows), params)
        conn.execute(sa.text(hour_rows), {**params, "hour_buckets": hour_buckets})
        conn.execute(sa.text("ANALYZE request_counters"))
        return conn.execute(sa.text("SELECT count(*) FROM request_counters")).scalar_one()


def load_sqlite(engine, n_models: int, outages: int, now: datetime) -> int:  # type: ignore[no-untyped-def]
    import json

    from store import schema
    from store.upsert import insert_or_ignore

    end = now.replace(second=0, microsecond=0)
    buckets = json.loads(BUCKETS)
    total = 0
    with engine.begin() as conn:
        for i in range(n_models):
            rows = []
            for m in range(1, 3 * 1440 + 1):
                down = i < outages and m <= 12
                errors = 90 if down else (1 if m % 97 == 0 else 0)
                rows.append({"minute": end - timedelta(minutes=m), "model": f"model-{i:04d}", "version": "v1", "batch_id": "b",
                             "requests": 90, "errors": errors, "latency_count": 90 - errors, "latency_sum_ms": 2700.0,
                             "latency_buckets": {} if down else buckets, "dropped": None})
            total += insert_or_ignore(conn, schema.request_counters, rows)
    return total


PHASES = ("1 (cold)", "2 (steady)", "3 (steady)")
STATE_TABLES = ("delivery_attempts", "notifications", "alert_groups", "alerts", "slo_status", "slo_status_history",
                "sli_hourly", "sli_rollups")


def reset(engine) -> None:  # type: ignore[no-untyped-def]
    """Back to a store that has never run a cycle: no rollup, no alert state, empty outbox."""
    from store import schema

    with engine.begin() as conn:
        for name in STATE_TABLES:
            conn.execute(schema.metadata.tables[name].delete())


def run_sequence(engine, url: str, config, now: datetime, n_slos: int, first: bool) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """The cold cycle, the rollup build the scheduler runs after it, two steady cycles and one
    after a restart (a new engine: nothing in memory, the store as it was). Seconds per phase."""
    from alerts.cycle import run_alert_cycle
    from alerts.slo_counts import build_rollups
    from store.engine import create_engine
    from store.slo_reads import epoch_minute

    reset(engine)
    if first:
        print(f"{'cycle':<22}{'total':>8}{'read':>8}{'evaluate':>10}{'write':>8}  firing  enqueued  target")
    out: dict[str, float] = {}

    def cycle(label: str, at: datetime, on) -> None:  # type: ignore[no-untyped-def]
        report = run_alert_cycle(on, config, at)
        out[label] = report.total_s
        verdict = "ok" if report.total_s < TARGET_S else "MISSED"
        print(f"{label:<22}{report.total_s:>7.2f}s{report.read_s:>7.2f}s{report.evaluate_s:>9.2f}s{report.write_s:>7.2f}s"
              f"  {report.firing:>6}  {report.enqueued:>8}  < {TARGET_S:g} s {verdict}")

    cycle(PHASES[0], now, engine)
    started = time.perf_counter()
    rows = build_rollups(engine, [(m.name, s) for m in config.models for s in m.slos], epoch_minute(now))
    out["rollup build (after 1)"] = time.perf_counter() - started
    print(f"{'rollup build (after 1)':<22}{out['rollup build (after 1)']:>7.2f}s  {rows:,} hourly rows, off the alert path")
    for i, label in enumerate(PHASES[1:], start=1):
        cycle(label, now + timedelta(minutes=i), engine)
    fresh = create_engine(url)  # a restarted scheduler: new process state, the same store
    try:
        cycle("4 (after restart)", now + timedelta(minutes=3), fresh)
    finally:
        fresh.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=int, default=500, help="models (two SLOs each)")
    parser.add_argument("--outages", type=int, default=25, help="models failing right now")
    parser.add_argument("--sqlite", action="store_true", help="SQLite file instead of PostgreSQL (3 days of counters only)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run the sequence this many times on the same data (state reset between) and print medians")
    args = parser.parse_args()

    from store.bootstrap import create_schema
    from store.engine import create_engine

    tmp = Path(tempfile.mkdtemp(prefix="mw-bench-alerts-"))
    server = None
    if args.sqlite:
        url = f"sqlite:///{tmp / 'bench.db'}"
    else:
        url = os.environ.get("MODELWATCH_BENCH_DATABASE_URL", "")
        if not url:
            from tests.conftest import PostgresServer, find_postgres_bindir, free_port

            bindir = find_postgres_bindir()
            if bindir is None:
                raise SystemExit("no PostgreSQL binaries found; set MODELWATCH_BENCH_DATABASE_URL or use --sqlite")
            server = PostgresServer(bindir, tmp, free_port())
            server.start()
            url = server.url
    try:
        engine = create_engine(url)
        create_schema(engine)
        config = monitors(args.models)
        n_slos = sum(len(m.slos) for m in config.models)
        now = datetime.now(timezone.utc).replace(second=5, microsecond=0)
        started = time.perf_counter()
        rows = (load_sqlite if args.sqlite else load_postgres)(engine, args.models, args.outages, now)
        print(f"{engine.dialect.name}: {args.models} models, {n_slos} SLOs, {rows:,} counter rows "
              f"(loaded in {time.perf_counter() - started:.1f} s)")
        runs = [run_sequence(engine, url, config, now, n_slos, first=(k == 0)) for k in range(args.repeat)]
        if args.repeat > 1:
            print(f"median of {args.repeat} runs:")
            for label in runs[0]:
                seconds = statistics.median(run[label] for run in runs)
                target = "" if label.startswith("rollup") else f"  < {TARGET_S:g} s {'ok' if seconds < TARGET_S else 'MISSED'}"
                print(f"  {label:<22}{seconds:>7.2f}s{target}")
        engine.dispose()
    finally:
        if server is not None:
            server.destroy()
        shutil.rmtree(tmp, ignore_errors=True)  # the SQLite file (the cluster's folder is gone already)


if __name__ == "__main__":
    main()
