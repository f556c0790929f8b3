"""Read what each SLO's evaluation needs from the store, as ``SliCounts`` (the I/O of the cycle).

For every SLO, ``analysis.slo.horizon.plan_reads`` cuts its windows into rings; this module
fetches one sum per ring with few queries:

- counter kinds (availability, latency): the minute-exact rings for every model in one
  GROUP BY model, ring query per distinct set of rings; the whole-hour rings from the hourly
  rollup's running sums (refreshed first, in its own short transaction, within a budget of
  SLO-hours: SLOs further behind, e.g. new ones over 30 days of counters, read their hour
  rings from the counters in the same GROUP BY until ``build_rollups`` has caught them up);
- sample kinds (quality, label freshness, drift-free, feature freshness): one GROUP BY ring
  query per SLO straight from predictions / labels / analysis_results;
- timeslice budgeting: every minute of the window (a slice's verdict needs its minutes).
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
from store.slo_reads import Bucketing, Buckets, counter_buckets, minute_time, sample_buckets

__all__ = ["ROLLUP_HOURS_PER_CYCLE", "SloKey", "build_rollups", "read_slo_counts"]

SloKey = tuple[str, str]  # (model, slo name)
# SLO x hours a cycle rolls up before it reads the rest straight from request_counters: an hour
# of 1,000 SLOs, or a day of 50, costs well under a second; 30 days of 1,000 SLOs (720,000
# rows) about ten, which would make the first cycle late.
ROLLUP_HOURS_PER_CYCLE = 10_000


@dataclass(frozen=True)
class _Item:
    model: str
    spec: SloSpec
    plan: ReadPlan

    @property
    def key(self) -> SloKey:
        return (self.model, self.spec.name)

    def rollup(self) -> RollupTarget:
        return RollupTarget(self.model, self.spec, self.plan.edges[0], self.plan.detail_start, self.plan.hour_edges)


def _rollup_targets(items: Sequence[_Item]) -> list[RollupTarget]:
    return [i.rollup() for i in items if i.spec.kind in COUNTER_KINDS and not i.plan.per_minute and i.plan.hour_edges]


def read_slo_counts(engine: Engine, slos: Sequence[tuple[str, SloSpec]], end: int,
                    rollup_budget: int | None = ROLLUP_HOURS_PER_CYCLE) -> dict[SloKey, SliCounts]:
    """Counts for evaluating each ``(model, spec)`` on complete minutes before epoch minute ``end``.

    The hourly rollup is caught up within ``rollup_budget`` SLO-hours (None: all of it); the
    SLOs left behind (first seen over a long history, or after a long pause) have their hour
    rings read from the raw counters instead, exact but slower, until ``build_rollups`` or a
    later cycle has rolled them up."""
    items = [_Item(model, spec, plan_reads(spec, end)) for model, spec in slos]
    targets = _rollup_targets(items)
    behind: frozenset[SloKey] = frozenset()
    if targets:
        # Its own short transaction: idempotent upserts, not part of the alert-state transaction.
        with engine.begin() as conn:
            behind = refresh_rollups(conn, targets, rollup_budget).behind
    out: dict[SloKey, SliCounts] = {}
    with engine.connect() as conn:
        hours = ring_sums(conn, [t for t in targets if (t.model, t.spec.name) not in behind])
        counters = [i for i in items if i.spec.kind in COUNTER_KINDS]
        out.update(_counter_counts(conn, [i for i in counters if not i.plan.per_minute], hours, behind))
        for item in items:
            if item.plan.per_minute:
                out[item.key] = _per_minute(conn, item)
            elif item.spec.kind not in COUNTER_KINDS:
                sums = sample_buckets(conn, item.model, item.spec, minute_time(item.plan.edges[0]), minute_time(item.plan.end),
                                      Bucketing(edges=item.plan.edges))
                out[item.key] = _from_rings(item.plan, sums)
    return out


def _from_rings(plan: ReadPlan, sums: Buckets) -> SliCounts:
    """Ring sums keyed by ring start into edge order (missing rings are empty)."""
    index = {edge: i for i, edge in enumerate(plan.edges)}
    size = len(plan.edges)
    total, bad = np.zeros(size), np.zeros(size)
    expected = np.zeros(size) if sums.expected is not None else None
    for j, start in enumerate(sums.starts.tolist()):
        total[index[start]] += sums.total[j]
        bad[index[start]] += sums.bad[j]
        if expected is not None and sums.expected is not None:
            expected[index[start]] += sums.expected[j]
    return assemble(plan, total, bad, expected)


def build_rollups(engine: Engine, slos: Sequence[tuple[str, SloSpec]], end: int) -> int:
    """Roll up every counter SLO's missing hours, however many (the scheduler runs it after the
    alert cycle, so SLOs new over a long history are read from the rollup from the next cycle
    on); returns the hourly rows written."""
    targets = _rollup_targets([_Item(model, spec, plan_reads(spec, end)) for model, spec in slos])
    if not targets:
        return 0
    with engine.begin() as conn:
        return refresh_rollups(conn, targets).written


def _counter_counts(conn: Connection, items: Sequence[_Item], hours: dict[SloKey, tuple[np.ndarray, np.ndarray]],
                    behind: frozenset[SloKey] = frozenset()) -> dict[SloKey, SliCounts]:
    """Counter SLIs: hour rings from the rollup's sums (``hours``) and the minute rings from
    request_counters, or every ring from request_counters for the SLOs ``behind`` the rollup."""
    by_rings: dict[tuple[tuple[int, ...], int], list[_Item]] = {}
    for item in items:
        direct = item.plan.edges if item.key in behind else item.plan.minute_edges
        by_rings.setdefault((direct, item.plan.end), []).append(item)
    out: dict[SloKey, SliCounts] = {}
    for (edges, end), group in by_rings.items():
        raw = counter_buckets(conn, sorted({i.model for i in group}), minute_time(edges[0]), minute_time(end),
                              Bucketing(edges=edges), [i.spec for i in group])
        for item in group:
            plan = item.plan
            n_hours = len(plan.edges) - len(edges)  # rings served by the rollup (none when behind)
            hour_total, hour_bad = hours.get(item.key, (np.zeros(n_hours), np.zeros(n_hours)))
            buckets = raw.get(item.model)
            minutes = buckets.sli(item.spec) if buckets is not None else Buckets.empty()
            offset = {edge: n_hours + i for i, edge in enumerate(edges)}
            total, bad = np.zeros(len(plan.edges)), np.zeros(len(plan.edges))
            total[:n_hours], bad[:n_hours] = hour_total, hour_bad
            for j, start in enumerate(minutes.starts.tolist()):
                total[offset[start]] += minutes.total[j]
                bad[offset[start]] += minutes.bad[j]
            out[item.key] = assemble(plan, total, bad)
    return out


def _per_minute(conn: Connection, item: _Item) -> SliCounts:
    plan = item.plan
    start, end = minute_time(plan.edges[0]), minute_time(plan.end)
    if item.spec.kind in COUNTER_KINDS:
        buckets = counter_buckets(conn, [item.model], start, end, Bucketing(size=1), [item.spec]).get(item.model)
        minutes = buckets.sli(item.spec) if buckets is not None else Buckets.empty()
    else:
        minutes = sample_buckets(conn, item.model, item.spec, start, end, Bucketing(size=1))
    return assemble(plan, minutes.total, minutes.bad, minutes.expected, starts=minutes.starts)
