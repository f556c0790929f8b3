"""Requests per model, version and UTC clock hour from the exact ``request_counters``: the input
of every cost figure (analysis.cost). One GROUP BY model, version, hour in SQL on PostgreSQL and
SQLite; hours without a request are left out (a fleet is charged only for hours it served)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from store import schema
from store.slo_reads import Bucketing, minute_time

__all__ = ["VersionHour", "hourly_requests"]

_HOUR_MINUTES = 60


class VersionHour(NamedTuple):
    """Requests of one version in the UTC clock hour starting at ``hour``."""

    version: str
    hour: datetime
    requests: int


def hourly_requests(conn: Connection, models: Sequence[str], start: datetime,
                    end: datetime) -> dict[str, list[VersionHour]]:
    """``model -> [VersionHour]`` (by version, then hour) for counter minutes in ``[start, end)``,
    every model in one query. Models without a request in the range are absent."""
    if not models or start >= end:
        return {}
    c = schema.request_counters
    hour = Bucketing(size=_HOUR_MINUTES).expression(c.c.minute, conn.dialect.name).label("hour")
    requests = sa.func.sum(c.c.requests)
    query = (
        sa.select(c.c.model, c.c.version, hour, requests)
        .where(c.c.model.in_(list(models)), c.c.minute >= start, c.c.minute < end)
        .group_by(c.c.model, c.c.version, hour)
        .having(requests > 0)
        .order_by(c.c.model, c.c.version, hour)
    )
    out: dict[str, list[VersionHour]] = {}
    for model, version, bucket, total in conn.execute(query):
        out.setdefault(model, []).append(VersionHour(version, minute_time(int(bucket)), int(total)))
    return out
