"""The dashboard in a real browser: Playwright drives Debian's Chromium (headless, --no-sandbox)
against a real ``modelwatch dashboard`` process on the seeded store. Each page is opened by its
shareable link, waited for until Streamlit has finished running it, checked for the numbers a
person would read, and saved as a screenshot under test-artifacts/screenshots/.

Nothing is downloaded: without /usr/bin/chromium or the playwright package the tests skip
locally and fail under CI=true (.ci/run installs chromium)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from dashboard import fmt
from tests.conftest import REPO_ROOT, free_port, unavailable, wait_for_port
from tests.dashboard.conftest import SeededStore, closed

pytestmark = pytest.mark.timeout(300)

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
WINDOW = {"width": 1400, "height": 1900}  # Streamlit scrolls an inner container: a tall window shows it all


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        unavailable("Debian's chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright Python package is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def dashboard_url(seeded_store: SeededStore, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``modelwatch dashboard`` process on the seeded store."""
    port = free_port()
    log = tmp_path_factory.mktemp("dashboard-process") / "dashboard.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "modelwatch.cli", "dashboard", "--db", seeded_store.url, "--config",
             str(seeded_store.config), "--port", str(port)],
            cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "CI": os.environ.get("CI", "")})
    try:
        wait_for_port("127.0.0.1", port, timeout=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()  # `modelwatch dashboard` became the Streamlit server: the signal reaches it
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert closed(port), "the dashboard kept serving after its process was terminated"


def open_rendered(browser, url: str, heading: str, screenshot: str):
    """Open ``url``, wait until the page's heading is shown and Streamlit's running indicator
    is gone (and charts are drawn), save a screenshot; returns the page."""
    page = browser.new_page(viewport=WINDOW)
    page.goto(url)
    page.get_by_role("heading", name=heading, exact=True).first.wait_for(timeout=60_000)
    page.wait_for_selector("[data-testid='stStatusWidget']", state="detached", timeout=60_000)
    # elements whose code loads lazily (grids, charts, widgets) show a skeleton until it has
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stSkeleton\"]')", timeout=30_000)
    assert page.locator("[data-testid='stException']").count() == 0
    for chart in page.locator("[data-testid='stVegaLiteChart']").all():
        chart.locator("canvas, svg").first.wait_for(timeout=30_000)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{screenshot}.png"))
    return page


def link(base: str, path: str, store: SeededStore, **extra: str) -> str:
    return f"{base}/{path}?{urlencode({**store.day_query(), **extra})}"


def metric_value(page, label: str) -> str:
    box = page.locator("[data-testid='stMetric']").filter(has=page.get_by_text(label, exact=True)).first
    return box.locator("[data-testid='stMetricValue']").inner_text().strip()


def test_overview_in_a_browser(browser, dashboard_url, seeded_store):
    page = open_rendered(browser, link(dashboard_url, "", seeded_store), "Overview", "overview")
    s = seeded_store.seeded
    requests, errors, _ = s.totals(s.start, s.now)
    assert metric_value(page, "Availability") == fmt.pct(1 - errors / requests, 3)
    assert metric_value(page, "Deploys / week") == "7.0"
    assert page.get_by_text("Fleet, riskiest first").is_visible()
    fleet = page.locator("table.mw-table").first  # an HTML table, no grid script: readable text
    assert fleet.locator("tbody tr").count() == 2 and fleet.locator("tbody tr").first.inner_text().startswith("fraud")
    page.close()


def test_oncall_in_a_browser(browser, dashboard_url, seeded_store):
    page = open_rendered(browser, link(dashboard_url, "oncall", seeded_store), "On-call", "oncall")
    s = seeded_store.seeded
    requests, errors, _ = s.totals(s.start, s.now)
    assert metric_value(page, "Requests") == f"{requests:,}"
    assert metric_value(page, "Error rate") == fmt.pct(errors / requests, 3)
    assert metric_value(page, "Current version") == "v2"
    assert page.locator("[data-testid='stVegaLiteChart']").count() == 2
    page.close()


def test_debug_in_a_browser(browser, dashboard_url, seeded_store):
    page = open_rendered(browser, link(dashboard_url, "debug", seeded_store), "Debug", "debug")
    assert page.get_by_text("x: reference vs current").is_visible()
    drift = page.locator("table.mw-table").first
    assert drift.locator("tbody tr").first.inner_text().split("\t")[:1] == ["x"]  # the drifted feature first
    assert drift.locator("img").first.evaluate("i => i.complete && i.naturalWidth > 0")  # its sparkline drew
    assert page.locator(".mw-hist-bin").count() >= 3 and page.locator(".mw-hist-bin span").first.is_visible()
    caption = page.get_by_text("labelled predictions; label coverage").inner_text()
    assert "accuracy 0." in caption and "on 100 labelled predictions" in caption
    page.close()


def test_slos_shadow_alerts_in_a_browser(browser, dashboard_url, seeded_store):
    import sqlalchemy as sa

    engine = sa.create_engine(seeded_store.url)
    with engine.connect() as conn:
        budget = conn.execute(sa.text("SELECT budget_remaining FROM slo_status WHERE model = 'fraud' "
                                      "AND slo = 'availability'")).scalar_one()
    engine.dispose()
    page = open_rendered(browser, link(dashboard_url, "slos", seeded_store, slo="availability"), "SLOs", "slos")
    assert metric_value(page, "Budget left") == fmt.pct(budget, 1)
    page.close()
    page = open_rendered(browser, link(dashboard_url, "shadow", seeded_store), "Shadow", "shadow")
    assert metric_value(page, "Agreement").endswith("%") and page.get_by_text("Verdict:").first.is_visible()
    page.close()
    page = open_rendered(browser, link(dashboard_url, "alerts", seeded_store), "Alerts", "alerts")
    assert page.get_by_role("tab", name="oncall").is_visible() and page.get_by_role("tab", name="audit").is_visible()
    # grids draw on a canvas; their cells are also in the DOM for screen readers
    page.locator("[data-testid^='glide-cell']", has_text='model="churn"').first.wait_for(state="attached", timeout=15_000)
    page.close()


def test_sidebar_links_keep_the_selection(browser, dashboard_url, seeded_store):
    page = open_rendered(browser, link(dashboard_url, "oncall", seeded_store, version="v1"), "On-call", "oncall-v1")
    page.locator("[data-testid='stSidebarNav'] a, [data-testid='stPageLink'] a").filter(has_text="Debug").first.click()
    page.get_by_role("heading", name="Debug", exact=True).wait_for(timeout=60_000)
    query = page.url.split("?", 1)[1]
    assert "model=fraud" in query and "version=v1" in query and "from=" in query
    page.close()
