"""Reads for the canary analysis: which versions of a model served in a window, how much, and
since when. (Each version's counters come from store.dashboard_reads.traffic_series and its
sampled predictions from store.analysis_reads.read_window.)"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from store import schema
from store.schema_deploys import deploys

__all__ = ["VersionSeen", "serving_versions"]


@dataclass(frozen=True)
class VersionSeen:
    """A version with traffic in the window: ``requests`` counted (exact), ``sampled``
    predictions stored; ``since``: the earliest of its first traffic, its recorded deploy time
    and its first deploy event (None when the store has none of them)."""

    version: str
    requests: int
    sampled: int
    since: datetime | None


def serving_versions(engine: Engine, model: str, start: datetime, end: datetime) -> list[VersionSeen]:
    """Every version of ``model`` with counted requests or sampled predictions in ``[start, end)``,
    by version name."""
    c, p, mv = schema.request_counters, schema.predictions, schema.model_versions
    with engine.connect() as conn:
        requests: dict[str, int] = dict(conn.execute(
            sa.select(c.c.version, sa.func.sum(c.c.requests))
            .where(c.c.model == model, c.c.minute >= start, c.c.minute < end).group_by(c.c.version)).all())
        sampled: dict[str, int] = dict(conn.execute(
            sa.select(p.c.version, sa.func.count())
            .where(p.c.model == model, p.c.time >= start, p.c.time < end).group_by(p.c.version)).all())
        recorded = {r.version: (r.first_seen, r.deployed_at) for r in conn.execute(
            sa.select(mv.c.version, mv.c.first_seen, mv.c.deployed_at).where(mv.c.model == model))}
        first_deploy: dict[str, datetime] = dict(conn.execute(
            sa.select(deploys.c.version, sa.func.min(deploys.c.time))
            .where(deploys.c.model == model).group_by(deploys.c.version)).all())
    out = []
    for version in sorted(set(requests) | set(sampled)):
        known = [t for t in (*recorded.get(version, ()), first_deploy.get(version)) if t is not None]
        out.append(VersionSeen(str(version), int(requests.get(version) or 0), int(sampled.get(version) or 0),
                               min(known) if known else None))
    return out
