"""The demo's monitors file: one fraud model with short analysis windows (1 minute, so drift
shows within a couple of minutes), a tight availability SLO (the short outage burns it fast
enough to page), and every alert routed to a webhook on loopback that prints what it gets."""

from __future__ import annotations

from typing import Any

from modelwatch.demo.traffic import CHANNELS, COUNTRIES, MODEL


def demo_monitors(webhook_url: str, dashboard_url: str) -> dict[str, Any]:
    return {
        "version": 1,
        "dashboard_url": dashboard_url,
        "models": [{
            "name": MODEL, "task": "binary", "classes": ["0", "1"], "positive_class": "1", "team": "demo",
            "description": "Synthetic card-fraud classifier sending live traffic (modelwatch up --demo).",
            "features": [
                {"name": "amount", "type": "numeric", "range": [0, 100000]},
                {"name": "account_age_days", "type": "numeric", "range": [0, 20000]},
                {"name": "hour_of_day", "type": "numeric", "range": [0, 23]},
                {"name": "country", "type": "categorical", "categories": list(COUNTRIES)},
                {"name": "channel", "type": "categorical", "categories": list(CHANNELS)},
            ],
            "slices": ["channel"],
            "analysis": {"schedule": {"window": "1m", "delay": "5s", "every": "5s", "catchup": "30m"}},
            "slos": [
                {"name": "availability", "kind": "availability", "objective": 0.999,
                 "description": "Scoring calls that return without an error."},
                {"name": "latency-p99", "kind": "latency", "objective": 0.99, "threshold_ms": 100},
            ],
        }],
        "routes": {"receiver": "demo-webhook", "group_by": ["model", "slo"], "group_wait": "5s",
                   "group_interval": "1m", "repeat_interval": "1h"},
        "receivers": [{"name": "demo-webhook", "type": "webhook", "url": webhook_url}],
    }
