"""bench/dashboard: time from navigation to a fully rendered Overview and Debug page, 30 days of
one model at 1,000,000 predictions/day on PostgreSQL.

    python bench/dashboard.py [--days 30] [--per-day 1000000] [--runs 5] [--keep DIR]

Starts a throwaway PostgreSQL (tests.conftest.PostgresServer, as bench/ingest.py does; or uses
MODELWATCH_BENCH_DATABASE_URL, which must point at an empty database), loads the data described
in bench/dashboard_data.py, starts a real ``modelwatch dashboard`` process and drives Debian's
Chromium with Playwright. A page counts as rendered when its last section is on screen,
Streamlit's running indicator is gone, no element is still a loading skeleton and every chart
has drawn. Each page shows the last 30 days and is timed:
- first: the first view after the dashboard process started (imports, first connections), in
  a browser that has never opened the dashboard;
- link, uncached: a shared link opened in a new tab of a browser that has opened the dashboard
  before (a returning user: Streamlit's frontend boots again, its scripts come from the
  browser's cache, where Streamlit marks them immutable for a year), process warm, the range
  ending a minute later each time so every store read runs again;
- link, new browser: the same, in a fresh browser profile each time (nothing cached: a
  person's very first visit, or a private window);
- in-app, uncached: clicking the page in the sidebar of an open dashboard (no frontend boot),
  also with every store read running again;
- link, cached: the returning user's link again within the cache's TTL.
Also: each store read of the pages on its own, and a 2-line Streamlit app's full page load
(the frontend's own boot, the floor under every "link" figure on this machine) both ways.

Target (issue 6): under 2 s each, warm.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

TARGET_S = 2.0
LAST_SECTION = {"": "Error budget remaining per SLO", "debug": "Recent failures", "oncall": "Recent deploys"}
HEADING = {"": "Overview", "debug": "Debug", "oncall": "On-call"}
VIEWPORT = {"width": 1400, "height": 1900}


def wait_rendered(page, path: str) -> None:
    page.get_by_role("heading", name=HEADING[path], exact=True).wait_for(timeout=120_000)
    page.get_by_text(LAST_SECTION[path]).first.wait_for(timeout=120_000)
    page.wait_for_selector("[data-testid='stStatusWidget']", state="detached", timeout=120_000)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stSkeleton\"]')", timeout=60_000)
    for chart in page.locator("[data-testid='stVegaLiteChart']").all():
        chart.locator("canvas, svg").first.wait_for(timeout=60_000)
    if page.locator("[data-testid='stException']").count():
        raise SystemExit(f"{page.url} shows an exception")


def load_seconds(where, url: str, path: str) -> float:
    """A full page load until rendered, in a new tab (the Streamlit frontend boots): of the
    browser context ``where`` (a returning user's profile) or, given the browser, of a fresh
    profile (``Browser.new_page`` makes a new context)."""
    from playwright.sync_api import Browser

    page = where.new_page(viewport=VIEWPORT) if isinstance(where, Browser) else where.new_page()
    started = time.perf_counter()
    page.goto(url)
    wait_rendered(page, path)
    elapsed = time.perf_counter() - started
    page.close()
    return elapsed


def click_seconds(context, url: str, other: str, path: str) -> float:
    """In-app navigation: open ``other`` at ``url``, then click the sidebar link to ``path``."""
    page = context.new_page()
    page.goto(url)
    wait_rendered(page, other)
    started = time.perf_counter()
    page.locator("[data-testid='stPageLink'] a").filter(has_text=HEADING[path]).first.click()
    wait_rendered(page, path)
    elapsed = time.perf_counter() - started
    page.close()
    return elapsed


def baseline_seconds(browser, runs: int) -> tuple[float, float]:
    """A 2-line Streamlit app's full page load here, the frontend's own boot and first run:
    (returning browser, new browser profile), medians."""
    from tests.conftest import free_port, wait_for_port

    folder = Path(tempfile.mkdtemp(prefix="mw-bench-hello-"))
    script = folder / "hello.py"
    script.write_text("import streamlit as st\nst.title('Overview')\nst.subheader('Error budget remaining per SLO')\n")
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port),
                                "--server.headless", "true", "--browser.gatherUsageStats", "false"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port("127.0.0.1", port, timeout=60)
        url = f"http://127.0.0.1:{port}/"
        visitor = browser.new_context(viewport=VIEWPORT)
        load_seconds(visitor, url, "")
        returning = statistics.median(load_seconds(visitor, url, "") for _ in range(runs))
        fresh = statistics.median(load_seconds(browser, url, "") for _ in range(runs))
        visitor.close()
        return returning, fresh
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


def time_pages(base: str, end: datetime, runs: int) -> None:
    from playwright.sync_api import sync_playwright

    def link(path: str, shift: int) -> str:
        to = end + timedelta(minutes=shift)
        return f"{base}/{path}?" + urlencode({"model": "bench", "from": (to - timedelta(days=30)).strftime(
            "%Y-%m-%dT%H:%M:%SZ"), "to": to.strftime("%Y-%m-%dT%H:%M:%SZ")})

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox"])
        visitor = browser.new_context(viewport=VIEWPORT)  # one person's browser profile, kept throughout
        shift = 0
        rows = []
        for path, other in (("", "debug"), ("debug", ""), ("oncall", "")):
            shift += 1
            first = load_seconds(visitor, link(path, shift), path)
            loads, fresh, clicks = [], [], []
            for _ in range(runs):
                shift += 1  # a new range end: every store read of the page runs again (no cache hit)
                loads.append(load_seconds(visitor, link(path, shift), path))
                shift += 1
                fresh.append(load_seconds(browser, link(path, shift), path))
                shift += 1
                clicks.append(click_seconds(visitor, link(other, shift), other, path))
            cached = min(load_seconds(visitor, link(path, shift), path) for _ in range(2))
            rows.append((HEADING[path], first, statistics.median(loads), max(loads), statistics.median(fresh),
                         statistics.median(clicks), max(clicks), cached))
        visitor.close()
        returning, new_profile = baseline_seconds(browser, runs)
        browser.close()
    print(f"\n(uncached = every store read runs; medians of {runs}; load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores)")
    print(f"{'page':<10}{'first':>7}{'link, uncached':>16}{'(max)':>7}{'link, new browser':>19}"
          f"{'in-app, uncached':>18}{'(max)':>7}{'link, cached':>14}  target < {TARGET_S:g} s")
    for name, first, load, load_max, load_fresh, click, click_max, cached in rows:
        verdict = "ok" if load < TARGET_S else ("ok in-app" if click < TARGET_S else "MISSED")
        print(f"{name:<10}{first:>6.2f}s{load:>15.2f}s{load_max:>6.2f}s{load_fresh:>18.2f}s{click:>17.2f}s"
              f"{click_max:>6.2f}s{cached:>13.2f}s  {verdict}")
    print(f"baseline: a 2-line Streamlit app's full page load takes {returning:.2f} s here in a returning "
          f"browser, {new_profile:.2f} s in a new one (the frontend's boot)")


def time_reads(engine, monitors, end: datetime) -> None:
    """Each store read of the Overview and Debug pages, on its own (30 days, no cache)."""
    from store import dashboard_reads as traffic
    from store import dashboard_reads_alerts as alerting
    from store import dashboard_reads_analysis as analysis
    from store import dashboard_reads_samples as samples

    start = end - timedelta(days=30)
    drift = analysis.drift_table(engine, "bench", start, end)
    window = (drift.window_start or end - timedelta(hours=1), drift.window_end or end)
    reads = {
        "fleet_traffic": lambda: traffic.fleet_traffic(engine, ["bench"], start, end),
        "slo_statuses": lambda: alerting.slo_statuses(engine, ["bench"]),
        "accuracy_proxies": lambda: analysis.accuracy_proxies(engine, ["bench"], start, end),
        "deploy_counts": lambda: traffic.deploy_counts(engine, ["bench"], start, end),
        "open_alert_counts": lambda: alerting.open_alert_counts(engine, ["bench"]),
        "drift_table": lambda: analysis.drift_table(engine, "bench", start, end),
        "quality_findings": lambda: analysis.quality_findings(engine, "bench", start, end),
        "slice_performance": lambda: analysis.slice_performance(engine, "bench", start, end),
        "recent_failures": lambda: samples.recent_failures(engine, "bench", start, end),
        "feature_values (1 h)": lambda: samples.feature_values(engine, "bench", "x", True, *window),
        "traffic_series 30 d": lambda: traffic.traffic_series(engine, "bench", start, end, 240),
    }
    print("\nstore reads (best of 3):")
    for name, read in reads.items():
        best = min(_timed(read) for _ in range(3))
        print(f"  {name:<22}{best * 1000:>8.1f} ms")


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def load(engine, monitors, days: int, per_day: int, end: datetime) -> None:
    import bench.dashboard_data as data
    from alerts.cycle import run_alert_cycle

    start = end - timedelta(days=days)
    outage = end - timedelta(hours=1)
    t0 = time.perf_counter()
    data.load_reference_and_deploys(engine, monitors, start, days)
    print(f"counters: {data.load_counters(engine, start, days, per_day, outage):,} rows", flush=True)
    rows = data.load_predictions(engine, start, days, per_day, outage)
    print(f"predictions: {rows:,} rows in {time.perf_counter() - t0:.0f} s", flush=True)
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    drift_from = start + timedelta(days=days - 3)
    real = [drift_from - 3 * data.HOUR + k * data.HOUR for k in range(3)] + [end - k * data.HOUR for k in (3, 2, 1)]
    written = data.copy_results(engine, data.analyse(engine, monitors, real), start, days, drift_from)
    print(f"analysis_results: {written:,} rows copied from the real windows", flush=True)
    report = run_alert_cycle(engine, monitors, end + timedelta(seconds=5))
    print(f"alert cycle: {report.slos} SLOs, {report.firing} firing ({report.total_s:.1f} s); "
          f"loaded in {time.perf_counter() - t0:.0f} s", flush=True)
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--per-day", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5, help="warm navigations per page")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--keep", action="store_true",
                        help="leave the PostgreSQL server running (its URL is printed) to rerun with "
                             "MODELWATCH_BENCH_DATABASE_URL=<url>, which then skips loading")
    args = parser.parse_args()

    import yaml

    from config.loader import parse_monitors
    from store.bootstrap import create_schema
    from store.engine import create_engine
    from tests.conftest import PostgresServer, find_postgres_bindir, free_port, wait_for_port

    tmp = Path(tempfile.mkdtemp(prefix="mw-bench-dashboard-"))
    server = None
    url = os.environ.get("MODELWATCH_BENCH_DATABASE_URL", "")
    if not url:
        bindir = find_postgres_bindir()
        if bindir is None:
            raise SystemExit("no PostgreSQL binaries found; set MODELWATCH_BENCH_DATABASE_URL")
        server = PostgresServer(bindir, tmp, free_port())
        with open(server.datadir / "postgresql.conf", "a") as conf:  # loading 30M rows: bigger buffers and WAL
            conf.write("shared_buffers = 1GB\nmax_wal_size = 16GB\ncheckpoint_timeout = 30min\nwork_mem = 32MB\n")
        server.start()
        url = server.url
    process = None
    try:
        import bench.dashboard_data as data

        document = data.monitors_document()
        config = tmp / "monitors.yaml"
        config.write_text(yaml.safe_dump(document))
        monitors = parse_monitors(document)
        engine = create_engine(url)
        create_schema(engine)
        with engine.connect() as conn:
            loaded_until = conn.exec_driver_sql("SELECT max(minute) FROM request_counters").scalar()
        if loaded_until is None:
            end = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
            load(engine, monitors, args.days, args.per_day, end)
        else:  # a kept server: its data ends where it ended
            end = loaded_until.replace(second=0, microsecond=0) + timedelta(minutes=1)
            print(f"reusing the data in {url} (ends {end:%Y-%m-%d %H:%M} UTC)")
        with engine.connect() as conn:
            size = conn.exec_driver_sql("SELECT pg_size_pretty(pg_database_size(current_database()))").scalar()
        print(f"database size: {size}")
        time_reads(engine, monitors, end)
        engine.dispose()
        port = args.port or free_port()
        process = subprocess.Popen([sys.executable, "-m", "modelwatch.cli", "dashboard", "--db", url, "--config",
                                    str(config), "--port", str(port)], cwd=REPO,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port("127.0.0.1", port, timeout=60)
        time_pages(f"http://127.0.0.1:{port}", end, args.runs)
    finally:
        if process is not None:
            process.terminate()
            process.wait(10)
        if server is not None and args.keep:
            print(f"kept: MODELWATCH_BENCH_DATABASE_URL={url}  (stop: pg_ctl stop -D {server.datadir}; "
                  f"then remove {tmp}: ~20 GB with its WAL)")
        else:
            if server is not None:
                server.destroy()
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
