"""Read what each SLO's evaluation needs from the store, as ``SliCounts`` (the I/O of the cycle).

For every SLO, ``analysis.slo.horizon.plan_reads`` says which minutes must be exact and which
ring sums cover the rest of the SLO window; this module fetches them with few queries:

- counter kinds (availability, latency): minute counts for every model in one GROUP BY model,
  minute query per distinct range; ring sums from the hourly rollup (refreshed first);
- sample kinds (quality, label freshness, drift-free): two GROUP BY queries per SLO (rings and
  minutes) straight from predictions / labels / analysis_results.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy.engine import Connection, Engine

from analysis.slo.horizon import ReadPlan, assemble, plan_reads
from analysis.slo.series import SliCounts
from config.slo import SloSpec
from store.sli_rollup import COUNTER_KINDS, RollupTarget, refresh_rollups, ring_sums
from store.slo_reads import Bucketing, counter_buckets, minute_time, sample_buckets

__all__ = ["SloKey", "read_slo_counts"]

SloKey = tuple[str, str]  # (model, slo name)


@dataclass(frozen=True)
class _Item:
    model: str
    spec: SloSpec
    plan: ReadPlan

    @property
    def key(self) -> SloKey:
        return (self.model, self.spec.name)


def read_slo_counts(engine: Engine, slos: Sequence[tuple[str, SloSpec]], end: int) -> dict[SloKey, SliCounts]:
    """Counts for evaluating each ``(model, spec)`` on complete minutes before epoch minute ``end``."""
    items = [_Item(model, spec, plan_reads(spec, end)) for model, spec in slos]
    counters = [i for i in items if i.spec.kind in COUNTER_KINDS]
    targets = [RollupTarget(i.model, i.spec, i.plan.edges[0], i.plan.detail_start, i.plan.edges) for i in counters if i.plan.edges]
    if targets:
        # Its own short transaction: idempotent upserts, not part of the alert-state transaction.
        with engine.begin() as conn:
            refresh_rollups(conn, targets)
    out: dict[SloKey, SliCounts] = {}
    with engine.connect() as conn:
        rings = ring_sums(conn, targets) if targets else {}
        out.update(_counter_counts(conn, counters, rings))
        for item in items:
            if item.spec.kind not in COUNTER_KINDS:
                out[item.key] = _sample_counts(conn, item)
    return out


def _counter_counts(conn: Connection, items: Sequence[_Item], rings: dict[SloKey, tuple[np.ndarray, np.ndarray]]) -> dict[SloKey, SliCounts]:
    by_range: dict[tuple[int, int], list[_Item]] = {}
    for item in items:
        by_range.setdefault((item.plan.detail_start, item.plan.end), []).append(item)
    out: dict[SloKey, SliCounts] = {}
    for (start, end), group in by_range.items():
        minutes = counter_buckets(conn, sorted({i.model for i in group}), minute_time(start), minute_time(end),
                                  Bucketing(size=1), [i.spec for i in group])
        for item in group:
            n_rings = len(item.plan.edges)
            total, bad = rings.get(item.key, (np.zeros(n_rings), np.zeros(n_rings)))
            buckets = minutes.get(item.model)
            if buckets is None:
                detail = (np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0), None)
            else:
                sli = buckets.sli(item.spec)
                detail = (sli.starts, sli.total, sli.bad, None)
            out[item.key] = assemble(item.plan, (total, bad, None), detail)
    return out


def _sample_counts(conn: Connection, item: _Item) -> SliCounts:
    plan = item.plan
    n_rings = len(plan.edges)
    ring_total, ring_bad, ring_expected = np.zeros(n_rings), np.zeros(n_rings), np.zeros(n_rings)
    if plan.edges:
        rings = sample_buckets(conn, item.model, item.spec, minute_time(plan.edges[0]), minute_time(plan.detail_start), Bucketing(edges=plan.edges))
        index = {edge: i for i, edge in enumerate(plan.edges)}
        for j, start in enumerate(rings.starts.tolist()):
            ring_total[index[start]] += rings.total[j]
            ring_bad[index[start]] += rings.bad[j]
            if rings.expected is not None:
                ring_expected[index[start]] += rings.expected[j]
    minutes = sample_buckets(conn, item.model, item.spec, minute_time(plan.detail_start), minute_time(plan.end), Bucketing(size=1))
    return assemble(plan, (ring_total, ring_bad, ring_expected), (minutes.starts, minutes.total, minutes.bad, minutes.expected))
