"""Hourly SLI counts of counter-based SLOs, so a cycle reads 30 days as a few ring sums.

``refresh_rollups`` adds, per SLO, the hours between its watermark (``sli_rollups.rolled_until``)
and the start of its minute-resolution range, computed from ``request_counters`` in one
GROUP BY model, hour query per range; ``ring_sums`` then reads the long windows as one sum per
ring. Hours are rolled up once they are older than the minute range (at least 6 hours), so a
counter batch arriving later than that is not in the long windows (the SDK ships every few
seconds and gives up after its retry deadline, minutes). A changed counting rule (threshold,
bounds) restarts the SLO's rollup. Writes are idempotent upserts: two schedulers may both run it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from config.slo import SloKind, SloSpec
from store import schema_alerts as t
from store.slo_reads import Bucketing, counter_buckets, minute_time
from store.upsert import upsert

__all__ = ["COUNTER_KINDS", "RollupTarget", "refresh_rollups", "ring_sums", "spec_key"]

COUNTER_KINDS = frozenset({SloKind.availability, SloKind.latency})


@dataclass(frozen=True)
class RollupTarget:
    """One SLO: hours ``[first, until)`` (epoch minutes, hour aligned) must be rolled up, and its
    long windows are read as rings starting at ``edges``."""

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


def refresh_rollups(conn: Connection, targets: Sequence[RollupTarget]) -> int:
    """Roll up the missing hours of every target; returns the number of hourly rows written."""
    state = _watermarks(conn, targets)
    todo: dict[tuple[int, int], list[RollupTarget]] = {}
    restarted: list[RollupTarget] = []
    for target in targets:
        key, rolled = state.get((target.model, target.spec.name), (None, None))
        if key != spec_key(target.spec):
            if key is not None:
                restarted.append(target)
            rolled = None
        start = target.first if rolled is None else max(rolled, target.first)
        if start < target.until:
            todo.setdefault((start, target.until), []).append(target)
    hs = t.sli_hourly
    for target in restarted:
        conn.execute(hs.delete().where(hs.c.model == target.model, hs.c.slo == target.spec.name))
    written = 0
    for (start, until), group in sorted(todo.items()):
        rows = _hourly_rows(conn, group, start, until)
        upsert(conn, hs, rows, ("model", "slo", "hour"))
        written += len(rows)
    marks = [
        {"model": g.model, "slo": g.spec.name, "spec_key": spec_key(g.spec), "rolled_until": minute_time(g.until)}
        for group in todo.values() for g in group
    ]
    upsert(conn, t.sli_rollups, marks, ("model", "slo"))
    if todo:
        # Hours older than every SLO window are never read again.
        conn.execute(hs.delete().where(hs.c.hour < minute_time(min(g.first for g in targets))))
    return written


def _watermarks(conn: Connection, targets: Sequence[RollupTarget]) -> dict[tuple[str, str], tuple[str, int]]:
    r = t.sli_rollups
    models = sorted({target.model for target in targets})
    rows = conn.execute(sa.select(r.c.model, r.c.slo, r.c.spec_key, r.c.rolled_until).where(r.c.model.in_(models))) if models else []
    return {(row.model, row.slo): (row.spec_key, int(row.rolled_until.timestamp() // 60)) for row in rows}


def _hourly_rows(conn: Connection, group: Sequence[RollupTarget], start: int, until: int) -> list[dict]:
    models = sorted({g.model for g in group})
    counts = counter_buckets(conn, models, minute_time(start), minute_time(until), Bucketing(size=60), [g.spec for g in group])
    rows: list[dict] = []
    for g in group:
        buckets = counts.get(g.model)
        if buckets is None:
            continue
        sli = buckets.sli(g.spec)
        for hour, total, bad in zip(sli.starts.tolist(), sli.total.tolist(), sli.bad.tolist()):
            if total > 0:
                rows.append({"model": g.model, "slo": g.spec.name, "hour": minute_time(int(hour)), "total": total, "bad": bad})
    return rows


def ring_sums(conn: Connection, targets: Sequence[RollupTarget]) -> dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]:
    """Per SLO, (total, bad) summed over each ring ``[edges[i], edges[i+1])`` (the last ring ends
    at ``until``), from the rolled-up hours. One GROUP BY query per distinct set of rings."""
    hs = t.sli_hourly
    by_rings: dict[tuple[tuple[int, ...], int], list[RollupTarget]] = {}
    for target in targets:
        if target.edges:
            by_rings.setdefault((target.edges, target.until), []).append(target)
    out: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
    for (edges, until), group in by_rings.items():
        ring = Bucketing(edges=edges).expression(hs.c.hour, conn.dialect.name).label("ring")
        query = (
            sa.select(hs.c.model, hs.c.slo, ring, sa.func.sum(hs.c.total), sa.func.sum(hs.c.bad))
            .where(hs.c.model.in_(sorted({g.model for g in group})), hs.c.slo.in_(sorted({g.spec.name for g in group})),
                   hs.c.hour >= minute_time(edges[0]), hs.c.hour < minute_time(until))
            .group_by(hs.c.model, hs.c.slo, ring)
        )
        index = {edge: i for i, edge in enumerate(edges)}
        wanted = {(g.model, g.spec.name) for g in group}
        for model, slo, ring_start, total, bad in conn.execute(query):
            if (model, slo) not in wanted or ring_start is None:
                continue
            sums = out.setdefault((model, slo), (np.zeros(len(edges)), np.zeros(len(edges))))
            sums[0][index[int(ring_start)]] += float(total or 0)
            sums[1][index[int(ring_start)]] += float(bad or 0)
    return out
