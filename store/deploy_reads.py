"""Reads of deploy events: the history (API, CLI), deploy marks for charts and pages, and the
traffic per version that the unexpected-version alert judges.

A *deploy mark* is a ``deploys`` row, or, for a version with no deploy row at all (stored before
deploys were recorded), the version's ``model_versions`` time (deployed_at, else first_seen):
every version that ever served shows up once at least, and a recorded rollout as often as it
happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from store import schema
from store.deploys import DeployEvent
from store.schema_deploys import deploys

__all__ = ["DeployMark", "VersionTraffic", "deploy_mark_counts", "deploy_marks", "list_deploys", "version_traffic"]


@dataclass(frozen=True)
class DeployMark:
    """A deploy on a timeline: when, which version, and what is known about it."""

    version: str
    at: datetime
    note: str | None = None
    source: str | None = None  # api | cli | sdk; None for a version known only from model_versions
    artifact_sha256: str | None = None


@dataclass(frozen=True)
class VersionTraffic:
    """Requests one version of a model served in a time range, with its artifact when known."""

    model: str
    version: str
    requests: int
    artifact_sha256: str | None


def list_deploys(engine: Engine, model: str, start: datetime, end: datetime, limit: int = 1000) -> list[DeployEvent]:
    """Deploys of ``model`` with ``start <= time < end``, newest first (ties: latest recorded first)."""
    query = (sa.select(deploys).where(deploys.c.model == model, deploys.c.time >= start, deploys.c.time < end)
             .order_by(deploys.c.time.desc(), deploys.c.id.desc()).limit(limit))
    with engine.connect() as conn:
        return [DeployEvent(int(r.id), r.time, r.model, r.version, r.source, r.artifact_sha256, r.note, r.actor)
                for r in conn.execute(query)]


def _marks(models: Sequence[str], start: datetime, end: datetime | None) -> sa.Subquery:
    """Deploy marks of ``models`` in ``[start, end)`` (no upper bound when ``end`` is None)."""
    mv = schema.model_versions
    recorded = sa.exists().where(deploys.c.model == mv.c.model, deploys.c.version == mv.c.version)
    when = sa.func.coalesce(mv.c.deployed_at, mv.c.first_seen)
    rows = sa.select(deploys.c.model, deploys.c.time.label("at"), deploys.c.version, deploys.c.note,
                     deploys.c.source, deploys.c.artifact_sha256).where(deploys.c.model.in_(list(models)),
                                                                         deploys.c.time >= start)
    legacy = sa.select(mv.c.model, when.label("at"), mv.c.version, mv.c.note, sa.null().label("source"),
                       mv.c.artifact_sha256).where(mv.c.model.in_(list(models)), ~recorded, when >= start)
    if end is not None:
        rows, legacy = rows.where(deploys.c.time < end), legacy.where(when < end)
    return sa.union_all(rows, legacy).subquery("marks")


def deploy_marks(conn: Connection, model: str, start: datetime, end: datetime | None = None,
                 limit: int = 50) -> list[DeployMark]:
    """Deploy marks of ``model`` in ``[start, end)``, newest first."""
    marks = _marks([model], start, end)
    query = sa.select(marks).order_by(marks.c.at.desc(), marks.c.version.desc()).limit(limit)
    return [DeployMark(r.version, r.at, r.note, r.source, r.artifact_sha256) for r in conn.execute(query)]


def deploy_mark_counts(conn: Connection, models: Sequence[str], start: datetime, end: datetime) -> dict[str, int]:
    """Deploy marks per model in ``[start, end)``."""
    if not models:
        return {}
    marks = _marks(models, start, end)
    query = sa.select(marks.c.model, sa.func.count()).group_by(marks.c.model)
    return {m: int(n) for m, n in conn.execute(query)}


def version_traffic(conn: Connection, models: Sequence[str], since: datetime, until: datetime) -> list[VersionTraffic]:
    """Requests per (model, version) over counter minutes in ``[since, until)``, versions that
    served none left out; the artifact is the version's latest recorded one."""
    if not models:
        return []
    c, mv = schema.request_counters, schema.model_versions
    served = (sa.select(c.c.model, c.c.version, sa.func.sum(c.c.requests).label("requests"))
              .where(c.c.model.in_(list(models)), c.c.minute >= since, c.c.minute < until)
              .group_by(c.c.model, c.c.version).subquery())
    query = (sa.select(served.c.model, served.c.version, served.c.requests, mv.c.artifact_sha256)
             .outerjoin(mv, (mv.c.model == served.c.model) & (mv.c.version == served.c.version))
             .where(served.c.requests > 0).order_by(served.c.model, served.c.version))
    return [VersionTraffic(r.model, r.version, int(r.requests), r.artifact_sha256) for r in conn.execute(query)]
