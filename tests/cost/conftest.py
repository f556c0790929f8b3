"""Cost fixtures: a monitors config with a priced model (and one without costs), and the
counters every cost test seeds, with the figures worked out by hand once, here, in words.

Prices: version "*" (so v1) a fleet at 3.20 USD an hour; v2 its own fleet at 1.50 an hour plus
0.0001 a request. Counters (UTC, 2025), each a separate SDK batch:

    v1  02-28 23:30  100        v1  03-01 10:05  400     v1  03-01 10:59  600
    v1  03-01 11:00  300        v1  03-01 11:30  200
    v2  03-01 11:10  200        v2  03-01 12:45  300     v2  03-01 14:20   50

Over [02-28 23:00, 03-01 14:00) (what from=23:15, to=13:40 widens to):
    v1: 1,600 requests in 3 clock hours (02-28 23:00, 03-01 10:00, 11:00): 3 x 3.20 = 9.60 USD,
        per 1,000 predictions 9.60 / 1600 x 1000 = 6.00
    v2: 500 requests in 2 hours (11:00, 12:00): 2 x 1.50 + 500 x 0.0001 = 3.05, per 1k 6.10
    model: 2,100 requests, 12.65 USD, per 1k 12.65 / 2100 x 1000 = 6.0238...
    days: 02-28 (23:00 only) 100 requests 3.20; 03-01 until 14:00: 2,000 requests 9.45
The 14:20 batch lies outside that range.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from config.loader import parse_monitors
from config.monitors import Monitors
from store.records import CounterRow
# Fixtures of neighbouring suites the cost tests run on: a collector app, loopback receivers,
# a collector process's database.
from tests.alerts_io.conftest import pd_server, slack_server  # noqa: F401
from tests.collector.conftest import start_collector  # noqa: F401
from tests.integration.conftest import database_url, store  # noqa: F401

PRICED, PLAIN = "fraud", "plain"
COSTS = [{"version": "*", "per_hour": 3.20}, {"version": "v2", "per_hour": 1.50, "per_request": 0.0001}]


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=timezone.utc)


SEEDED = [
    ("v1", utc(2, 28, 23, 30), 100), ("v1", utc(3, 1, 10, 5), 400), ("v1", utc(3, 1, 10, 59), 600),
    ("v1", utc(3, 1, 11, 0), 300), ("v1", utc(3, 1, 11, 30), 200),
    ("v2", utc(3, 1, 11, 10), 200), ("v2", utc(3, 1, 12, 45), 300), ("v2", utc(3, 1, 14, 20), 50),
]


def model_entry(name: str, costs: list[dict[str, Any]] | None = None, cost_alerts: dict[str, Any] | None = None,
                team: str = "payments-ml") -> dict[str, Any]:
    entry: dict[str, Any] = {"name": name, "task": "binary", "positive_class": "1", "team": team,
                             "features": [{"name": "amount", "type": "numeric"}]}
    if costs is not None:
        entry["costs"] = costs
    if cost_alerts is not None:
        entry["cost_alerts"] = cost_alerts
    return entry


def cost_monitors(cost_alerts: dict[str, Any] | None = None, **extra: Any) -> Monitors:
    return parse_monitors({"version": 1, "models": [model_entry(PRICED, COSTS, cost_alerts), model_entry(PLAIN)],
                           **extra})


def counter_row(version: str, minute: datetime, requests: int, model: str = PRICED) -> CounterRow:
    return CounterRow(minute=minute, model=model, version=version, batch_id=f"{version}-{minute.isoformat()}",
                      requests=requests, errors=0, latency_count=0, latency_sum_ms=0.0, latency_buckets={})
