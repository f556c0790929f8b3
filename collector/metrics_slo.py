"""SLO and drift gauges on /metrics, read from the store's latest evaluations.

A custom prometheus_client collector: at scrape time it returns the latest ``slo_status`` rows
(SLI, objective, burn rate per window, budget left, time to exhaustion, label coverage, firing
severities) and the latest drift scores per feature from ``analysis_results``, cached for
``ttl`` seconds so a busy scraper costs one read per TTL. With the database down it serves the
last values it has (the collector's own metrics count the outage). ``modelwatch rules export``
writes Prometheus rules over these names (alerts.prom_rules).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from prometheus_client.core import GaugeMetricFamily
from sqlalchemy.engine import Engine

from alerts.prom_names import METRIC_NAMES
from collector.metrics_cached import CachedCollector
from store.alert_reads import latest_drift_scores, latest_slo_status

__all__ = ["METRIC_NAMES", "SloMetricsCollector"]

DRIFT_LOOKBACK = timedelta(days=2)


class SloMetricsCollector(CachedCollector):
    """Register on a CollectorRegistry; ``clock`` is monotonic seconds (tests pass their own)."""

    what = "SLO metrics"

    def __init__(self, engine: Engine, ttl: float = 15.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(ttl, clock)
        self.engine = engine

    def _read(self) -> list[GaugeMetricFamily]:
        with self.engine.connect() as conn:
            statuses = latest_slo_status(conn)
            drift = latest_drift_scores(conn, datetime.now(timezone.utc) - DRIFT_LOOKBACK)
        return _slo_families(statuses) + _drift_families(drift)


def _gauge(key: str, text: str, labels: list[str]) -> GaugeMetricFamily:
    return GaugeMetricFamily(METRIC_NAMES[key], text, labels=labels)


def _slo_families(statuses: list) -> list[GaugeMetricFamily]:
    base = ["model", "slo", "kind"]
    sli = _gauge("sli", "Good events / all events over the SLO window so far.", base)
    objective = _gauge("objective", "The SLO's objective (target good ratio).", base)
    burn = _gauge("burn", "Error budget burn rate over a window (1 = the whole budget in one SLO window).", [*base, "window"])
    budget = _gauge("budget", "Fraction of the SLO window's error budget left (negative: overspent).", base)
    exhaustion = _gauge("exhaustion", "Seconds until the budget runs out at the current burn (absent: not being spent).", base)
    coverage = _gauge("coverage", "Quality SLOs: labelled / predictions over the shortest alert window.", base)
    firing = _gauge("firing", "1 while a burn-rate rule of this severity fires.", [*base, "severity"])
    evaluated = _gauge("evaluated", "When the SLO was last evaluated (Unix seconds).", base)
    for s in statuses:
        labels = [s.model, s.slo, s.kind]
        objective.add_metric(labels, s.objective)
        evaluated.add_metric(labels, s.evaluated_at.timestamp())
        if s.sli is not None:
            sli.add_metric(labels, s.sli)
        if s.budget_remaining is not None:
            budget.add_metric(labels, s.budget_remaining)
        if s.time_to_exhaustion_s is not None:
            exhaustion.add_metric(labels, s.time_to_exhaustion_s)
        if s.label_coverage is not None:
            coverage.add_metric(labels, s.label_coverage)
        for window, value in sorted((s.burn_rates or {}).items()):
            if value is not None:
                burn.add_metric([*labels, window], value)
        firing_now = set(filter(None, s.firing_severities.split(",")))
        for severity in sorted({r["severity"] for r in s.rules or []}):
            firing.add_metric([*labels, severity], 1.0 if severity in firing_now else 0.0)
    return [sli, objective, burn, budget, exhaustion, coverage, firing, evaluated]


def _drift_families(rows: list) -> list[GaugeMetricFamily]:
    labels = ["model", "version", "feature", "metric", "slice"]
    score = _gauge("drift", "Drift statistic of a feature in the latest analysis window.", labels)
    drifted = _gauge("drifted", "1 when the latest window's decision for the feature is drift.", labels)
    for r in rows:
        where = f"{r.slice_key}={r.slice_value}" if r.slice_key else ""
        values = [r.model, r.version, r.feature, r.metric, where]
        if r.value is not None:
            score.add_metric(values, r.value)
        drifted.add_metric(values, 1.0 if r.status == "drift" else 0.0)
    return [score, drifted]
