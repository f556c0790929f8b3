"""Cost gauges on /metrics: cost per 1,000 predictions and spend per UTC day, per model and version.

A custom prometheus_client collector over analysis.cost_figures.cost_snapshots (one GROUP BY over
the request counters of yesterday and today for every priced model), cached for ``ttl`` seconds
so a busy scraper costs one read per TTL; with the database down it serves the last values.
``version=""`` is the model as a whole (every priced version): filter it out before summing.
Models without ``costs:`` in the monitors YAML have no series.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily
from sqlalchemy.engine import Engine

from analysis.cost import CostSummary, VersionCost
from analysis.cost_figures import CostSnapshot, cost_snapshots
from collector.metrics_cached import CachedCollector
from config.monitors import Model
from store.types import utc_now

__all__ = ["COST_METRIC_NAMES", "CostMetricsCollector", "cost_families"]

COST_METRIC_NAMES = {
    "per_1k": "modelwatch_cost_per_1k_predictions",
    "today": "modelwatch_cost_spend_today",
    "projected": "modelwatch_cost_spend_today_projected",
    "per_day": "modelwatch_cost_spend_per_day",
}
_LABELS = ["model", "version", "currency"]


class CostMetricsCollector(CachedCollector):
    """Register on a CollectorRegistry; ``clock`` is monotonic seconds and ``now`` the wall
    clock (tests pass their own)."""

    what = "cost metrics"

    def __init__(self, engine: Engine, models: Sequence[Model], ttl: float = 60.0,
                 clock: Callable[[], float] = time.monotonic, now: Callable[[], datetime] = utc_now) -> None:
        super().__init__(ttl, clock)
        self.engine = engine
        self.models = [m for m in models if m.costs]
        self.now = now

    def _read(self) -> list[GaugeMetricFamily]:
        if not self.models:
            return []  # nothing priced: no query at all
        with self.engine.connect() as conn:
            return cost_families(cost_snapshots(conn, self.models, self.now()))


def _add(family: GaugeMetricFamily, model: str, currency: str, summary: CostSummary,
         value: Callable[[CostSummary | VersionCost], float | None]) -> None:
    """The model as a whole (``version=""``), then each priced version; no sample where the
    figure does not exist (cost per 1,000 predictions without requests)."""
    sources: list[tuple[str, CostSummary | VersionCost]] = [("", summary)]
    sources += [(v.version, v) for v in summary.priced]
    for version, source in sources:
        figure = value(source)
        if figure is not None:
            family.add_metric([model, version, currency], figure)


def cost_families(snapshots: Mapping[str, CostSnapshot]) -> list[GaugeMetricFamily]:
    """The gauges of ``snapshots`` (pure)."""
    per_1k = GaugeMetricFamily(COST_METRIC_NAMES["per_1k"], "Cost per 1,000 predictions over the 24 complete UTC "
                               "hours before the current one, from the exact request counters.", labels=_LABELS)
    today = GaugeMetricFamily(COST_METRIC_NAMES["today"], "Spend of the current UTC day so far.", labels=_LABELS)
    projected = GaugeMetricFamily(COST_METRIC_NAMES["projected"], "Spend of the current UTC day projected to "
                                  "midnight at the recent request rate (docs/cost.md).", labels=["model", "currency"])
    per_day = GaugeMetricFamily(COST_METRIC_NAMES["per_day"], "Spend of the last full UTC day.", labels=_LABELS)
    for name, snap in sorted(snapshots.items()):
        _add(per_1k, name, snap.currency, snap.trailing, lambda s: s.per_1k_predictions)
        _add(today, name, snap.currency, snap.today.summary, lambda s: s.cost)
        _add(per_day, name, snap.currency, snap.last_day.summary, lambda s: s.cost)
        projected.add_metric([name, snap.currency], snap.today.projected)
    return [per_1k, today, projected, per_day]
