"""Hourly SLI counts of counter-based SLOs, so a cycle reads 30 days as a few point lookups.

``refresh_rollups`` appends, per SLO, every hour between its watermark (``sli_rollups``) and the
start of its minute-resolution range, computed from ``request_counters`` with one GROUP BY
model, hour query per range, each row carrying the running sums since the rollup began.
``ring_sums`` then reads a ring ``[a, b)`` of whole hours as ``cum(b - 1h) - cum(a - 1h)``: two
rows, however long the ring. Hours are rolled up once older than the minute range (at least
6 hours), so a counter batch arriving later than that is left out of the long windows (the SDK
ships every few seconds and gives up after its retry deadline, minutes). A changed counting rule
(threshold, bounds) or a gap restarts the SLO's rollup. Two schedulers may both run it: the
upserts write the same values. With a budget of SLO-hours (the alert cycle's), the SLOs that do
not fit are reported ``behind``: their reader sums the raw counters instead this time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from config.slo import SloKind, SloSpec
from store import schema_alerts as t
from store.slo_reads import Bucketing, counter_buckets, epoch_minute, minute_time
from store.upsert import bulk_upsert, upsert

__all__ = ["COUNTER_KINDS", "Refreshed", "RollupTarget", "refresh_rollups", "ring_sums", "spec_key"]

COUNTER_KINDS = frozenset({SloKind.availability, SloKind.latency})
_HOUR = 60


@dataclass(frozen=True)
class RollupTarget:
    """One SLO: hours ``[first, until)`` (epoch minutes, hour aligned) must be rolled up, and
    its rings start at ``edges`` (hour aligned, within that range; the last ends at ``until``)."""

    model: str
    spec: SloSpec
    first: int
    until: int
    edges: tuple[int, ...]


def spec_key(spec: SloSpec) -> str:
    """What the counts depend on: kind, and for latency the threshold and bucket bounds."""
    text = spec.kind.value
    if spec.kind is SloKind.latency:
        text += f"|{spec.threshold_ms!r}|{[float(b) for b in spec.buckets_ms]!r}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class _Mark:
    key: str
    rolled_until: int
    cum_total: float
    cum_bad: float


@dataclass(frozen=True)
class Refreshed:
    """What ``refresh_rollups`` did: hourly rows written, and the SLOs it left behind (over
    the hour budget): their hour rings must be read from request_counters this time."""

    written: int
    behind: frozenset[tuple[str, str]] = frozenset()


def refresh_rollups(conn: Connection, targets: Sequence[RollupTarget], max_hours: int | None = None) -> Refreshed:
    """Roll up the missing hours of the targets, those with the fewest missing first, while
    their total stays within ``max_hours`` (SLO x hours; None: all). Catching up an hour or a
    day always fits; rolling 30 days of 1,000 new SLOs does not, and is left to
    ``refresh_rollups`` without a limit off the alert path (alerts.slo_counts.build_rollups)."""
    marks = _watermarks(conn, targets)
    todo: dict[tuple[int, int], list[tuple[RollupTarget, float, float]]] = {}
    restart: list[RollupTarget] = []
    behind: set[tuple[str, str]] = set()
    budget = max_hours
    plans = [(target, *_resume(target, marks.get((target.model, target.spec.name)))) for target in targets]
    for target, start, cum_total, cum_bad, restarts in sorted(plans, key=lambda p: (p[0].until - p[1], p[0].model, p[0].spec.name)):
        hours = max(target.until - start, 0) // _HOUR
        if budget is not None:
            if hours > budget:
                behind.add((target.model, target.spec.name))
                continue
            budget -= hours
        if restarts:
            restart.append(target)
        if start < target.until:
            todo.setdefault((start, target.until), []).append((target, cum_total, cum_bad))
    hs = t.sli_hourly
    for target in restart:
        conn.execute(hs.delete().where(hs.c.model == target.model, hs.c.slo == target.spec.name))
    written = 0
    new_marks = []
    for (start, until), group in sorted(todo.items()):
        rows, group_marks = _hourly_rows(conn, group, start, until)
        bulk_upsert(conn, hs, rows, ("model", "slo", "hour"))
        written += len(rows)
        new_marks += group_marks
    upsert(conn, t.sli_rollups, new_marks, ("model", "slo"))
    if todo:
        # Older hours are never looked up again (a ring's start needs the hour before it).
        conn.execute(hs.delete().where(hs.c.hour < minute_time(min(g.first for g in targets) - _HOUR)))
    return Refreshed(written, frozenset(behind))


def _resume(target: RollupTarget, mark: _Mark | None) -> tuple[int, float, float, bool]:
    """Where the target's rollup goes on, with its running sums there, and whether its stored
    hours must go first (a changed counting rule, or a gap: it starts again from scratch)."""
    if mark is None or mark.key != spec_key(target.spec) or mark.rolled_until < target.first:
        return target.first, 0.0, 0.0, mark is not None
    return mark.rolled_until, mark.cum_total, mark.cum_bad, False


def _watermarks(conn: Connection, targets: Sequence[RollupTarget]) -> dict[tuple[str, str], _Mark]:
    r = t.sli_rollups
    models = sorted({target.model for target in targets})
    if not models:
        return {}
    rows = conn.execute(sa.select(r).where(r.c.model.in_(models)))
    return {(row.model, row.slo): _Mark(row.spec_key, epoch_minute(row.rolled_until), row.cum_total, row.cum_bad) for row in rows}


def _hourly_rows(conn: Connection, group: Sequence[tuple[RollupTarget, float, float]], start: int, until: int) -> tuple[list[dict], list[dict]]:
    models = sorted({g.model for g, _, _ in group})
    counts = counter_buckets(conn, models, minute_time(start), minute_time(until), Bucketing(size=_HOUR), [g.spec for g, _, _ in group])
    hours = np.arange(start, until, _HOUR, dtype=np.int64)
    rows: list[dict] = []
    marks: list[dict] = []
    for target, cum_total, cum_bad in group:
        total, bad = np.zeros(hours.size), np.zeros(hours.size)
        buckets = counts.get(target.model)
        if buckets is not None:
            sli = buckets.sli(target.spec)
            index = (sli.starts - start) // _HOUR
            np.add.at(total, index, sli.total)
            np.add.at(bad, index, sli.bad)
        # Every hour gets a row, empty ones too: a ring's edge must always find its running sum.
        running_total, running_bad = cum_total + np.cumsum(total), cum_bad + np.cumsum(bad)
        name = target.spec.name
        rows += [{"model": target.model, "slo": name, "hour": minute_time(int(h)), "total": a, "bad": b, "cum_total": ct, "cum_bad": cb}
                 for h, a, b, ct, cb in zip(hours.tolist(), total.tolist(), bad.tolist(), running_total.tolist(), running_bad.tolist())]
        marks.append({"model": target.model, "slo": name, "spec_key": spec_key(target.spec), "rolled_until": minute_time(until),
                      "cum_total": float(running_total[-1]), "cum_bad": float(running_bad[-1])})
    return rows, marks


def ring_sums(conn: Connection, targets: Sequence[RollupTarget]) -> dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]:
    """Per SLO, (total, bad) of each hour ring ``[edges[i], edges[i+1])`` (the last ends at
    ``until``), from the running sums: one query for every SLO, two rows per ring boundary."""
    hs = t.sli_hourly
    wanted = [target for target in targets if target.edges]
    if not wanted:
        return {}
    lookups = sorted({b - _HOUR for target in wanted for b in (*target.edges, target.until)})
    query = sa.select(hs.c.model, hs.c.slo, hs.c.hour, hs.c.cum_total, hs.c.cum_bad).where(
        hs.c.model.in_(sorted({g.model for g in wanted})), hs.c.slo.in_(sorted({g.spec.name for g in wanted})),
        hs.c.hour.in_([minute_time(m) for m in lookups]))
    cum: dict[tuple[str, str, int], tuple[float, float]] = {
        (row.model, row.slo, epoch_minute(row.hour)): (row.cum_total, row.cum_bad) for row in conn.execute(query)
    }
    out: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
    for target in wanted:
        name = target.spec.name
        bounds = [cum.get((target.model, name, b - _HOUR), (0.0, 0.0)) for b in (*target.edges, target.until)]
        values = np.asarray(bounds, dtype=np.float64)
        sums = np.maximum(np.diff(values, axis=0), 0.0)
        out[(target.model, name)] = (sums[:, 0], sums[:, 1])
    return out
