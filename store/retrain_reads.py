"""Retrain triggers in the store: the history the alert cycle's gate reads (inside its
transaction), the row it writes, and the list the API and the dashboard show.

A sent trigger's ``details`` name its outbox row by ``dedup_key`` and ``sequence`` (the
notifications table's unique key), so a listing can say whether the webhook was delivered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from store import schema_alerts
from store.schema_deploys import retrain_triggers

__all__ = ["TriggerRow", "insert_trigger", "read_triggers", "trigger_history"]


@dataclass(frozen=True)
class TriggerRow:
    id: int
    time: datetime
    model: str
    receiver: str
    group_key: str
    alertnames: tuple[str, ...]
    status: str  # sent | cooldown | capped
    details: dict[str, Any]
    delivery: str | None = None  # the webhook's outbox status (pending | sent | failed); sent triggers only


def _row(r: sa.Row) -> TriggerRow:
    names = tuple(n for n in (r.alertnames or "").split(",") if n)
    return TriggerRow(r.id, r.time, r.model, r.receiver, r.group_key, names, r.status, dict(r.details or {}))


def trigger_history(conn: Connection, receiver: str, model: str, since: datetime) -> list[TriggerRow]:
    """Triggers (sent and held back) of ``model`` to ``receiver`` at or after ``since``, oldest first."""
    t = retrain_triggers
    query = (sa.select(t).where(t.c.receiver == receiver, t.c.model == model, t.c.time >= since)
             .order_by(t.c.time, t.c.id))
    return [_row(r) for r in conn.execute(query)]


def insert_trigger(conn: Connection, time: datetime, model: str, receiver: str, group_key: str,
                   alertnames: Sequence[str], status: str, details: dict[str, Any]) -> int:
    """Append one trigger row on ``conn`` (the cycle's transaction); returns its id."""
    t = retrain_triggers
    return int(conn.execute(t.insert().values(
        time=time, model=model[:128], receiver=receiver[:128], group_key=group_key[:512],
        alertnames=",".join(sorted(set(alertnames))), status=status, details=details,
    ).returning(t.c.id)).scalar_one())


def _deliveries(conn: Connection, rows: Sequence[TriggerRow]) -> dict[tuple[str, int], str]:
    keys = [(r.details["dedup_key"], int(r.details["sequence"])) for r in rows
            if "dedup_key" in r.details and "sequence" in r.details]
    if not keys:
        return {}
    n = schema_alerts.notifications
    query = sa.select(n.c.dedup_key, n.c.sequence, n.c.status).where(sa.tuple_(n.c.dedup_key, n.c.sequence).in_(keys))
    return {(r.dedup_key, r.sequence): r.status for r in conn.execute(query)}


def read_triggers(engine: Engine, model: str, since: datetime, until: datetime, limit: int = 500,
                  status: str | None = None) -> list[TriggerRow]:
    """Triggers of ``model`` in ``[since, until)`` (of one ``status`` when given), newest first,
    each sent one with its delivery status."""
    t = retrain_triggers
    query = (sa.select(t).where(t.c.model == model, t.c.time >= since, t.c.time < until)
             .order_by(t.c.time.desc(), t.c.id.desc()).limit(limit))
    if status is not None:
        query = query.where(t.c.status == status)
    with engine.connect() as conn:
        rows = [_row(r) for r in conn.execute(query)]
        delivered = _deliveries(conn, rows)
    return [replace(r, delivery=delivered.get((r.details.get("dedup_key", ""), int(r.details.get("sequence", -1)))))
            for r in rows]
