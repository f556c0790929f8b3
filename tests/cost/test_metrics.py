"""Cost gauges on /metrics: the exporter at a pinned time against the hand computation, and the
real app's /metrics exposing them for traffic of the last hours."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import Engine

from analysis.cost import floor_hour
from collector.metrics_cost import CostMetricsCollector
from store.types import utc_now
from store.writes import write_counters
from tests.collector.conftest import Collector
from tests.cost.conftest import PRICED, SEEDED, cost_monitors, counter_row, utc

NOW = utc(3, 1, 13, 5)


def samples(text: str) -> dict[tuple[str, str, str], float]:
    """(metric, model, version) -> value, checking every sample carries the currency."""
    out = {}
    for family in text_string_to_metric_families(text):
        if family.name.startswith("modelwatch_cost_"):
            for s in family.samples:
                assert s.labels["currency"] == "USD"
                out[(s.name, s.labels["model"], s.labels.get("version", ""))] = s.value
    return out


def scrape(registry: CollectorRegistry) -> dict[tuple[str, str, str], float]:
    return samples(generate_latest(registry).decode())


def test_gauges_at_a_pinned_time_match_the_hand_computation(engine: Engine) -> None:
    write_counters(engine, [counter_row(*row) for row in SEEDED])
    clock = [0.0]
    registry = CollectorRegistry()
    registry.register(CostMetricsCollector(engine, cost_monitors().models, ttl=60, clock=lambda: clock[0], now=lambda: NOW))
    got = scrape(registry)
    per_1k, today, per_day = ("modelwatch_cost_per_1k_predictions", "modelwatch_cost_spend_today",
                              "modelwatch_cost_spend_per_day")
    # The 24 complete hours before 13:00 = [02-28 13:00, 03-01 13:00): v1 1,600 requests in 3 hours
    # (9.60 -> 6.00 per 1k), v2 500 in 2 hours (3.05 -> 6.10 per 1k), the model 12.65 / 2,100.
    assert got[(per_1k, PRICED, "v1")] == pytest.approx(6.0)
    assert got[(per_1k, PRICED, "v2")] == pytest.approx(6.10)
    assert got[(per_1k, PRICED, "")] == pytest.approx(12.65 / 2100 * 1000)
    # Today (03-01) so far: v1 1,500 requests in 2 hours = 6.40; v2 3.05.
    assert got[(today, PRICED, "v1")] == pytest.approx(6.40) and got[(today, PRICED, "v2")] == pytest.approx(3.05)
    assert got[(today, PRICED, "")] == pytest.approx(9.45)
    # The last full day (02-28): v1's one hour, 3.20.
    assert got[(per_day, PRICED, "")] == pytest.approx(3.20) and got[(per_day, PRICED, "v1")] == pytest.approx(3.20)
    assert (per_day, PRICED, "v2") not in got
    # Projected: v1 stopped at 11:xx (nothing more); v2 served at 12:45, so 11 fleet hours
    # (13:00..23:00) and 300 requests per 65 minutes for the 655 minutes left.
    projected = got[("modelwatch_cost_spend_today_projected", PRICED, "")]
    assert projected == pytest.approx(9.45 + 11 * 1.50 + 300 * 655 / 65 * 0.0001)
    assert not any(model == "plain" for _, model, _ in got)  # no costs declared: no series

    # Cached for the TTL: a new batch shows only after it.
    write_counters(engine, [counter_row("v1", utc(3, 1, 12, 30), 1000)])
    assert scrape(registry)[(today, PRICED, "v1")] == pytest.approx(6.40)
    clock[0] = 61.0
    assert scrape(registry)[(today, PRICED, "v1")] == pytest.approx(9.60)


def test_the_apps_metrics_expose_cost_gauges(sqlite_engine: Engine, start_collector: Callable[..., Collector]) -> None:
    c = start_collector(sqlite_engine, cost_monitors())
    two_hours_ago = floor_hour(utc_now()) - timedelta(hours=2)
    for i, minute in enumerate((two_hours_ago, two_hours_ago + timedelta(minutes=7))):
        body = {"model": PRICED, "version": "v2", "batch_id": f"m{i}", "bounds_ms": [100],
                "counters": [{"minute": int(minute.timestamp()), "requests": 1000}]}
        assert c.post("/v1/counters", body).status_code == 200
    got = samples(c.client.get("/metrics").text)
    # One fleet hour and 2,000 requests of v2 in the last 24 complete hours: (1.50 + 0.20) / 2000 x 1000
    assert got[("modelwatch_cost_per_1k_predictions", PRICED, "v2")] == pytest.approx(1.70 / 2000 * 1000)
    assert got[("modelwatch_cost_per_1k_predictions", PRICED, "")] == pytest.approx(0.85)
    assert ("modelwatch_cost_spend_per_day", PRICED, "") in got and ("modelwatch_cost_spend_today", PRICED, "") in got
