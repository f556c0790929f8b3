"""The notification outbox from the delivery worker's side: claim due rows, record attempts.

A worker claims rows with a lease (``lease_owner``, ``lease_until``) in a short transaction
(PostgreSQL: ``FOR UPDATE SKIP LOCKED``, so concurrent workers take different rows; SQLite: the
write lock), sends them outside any transaction, then records each attempt, but only while it
still holds the lease. A worker that dies mid-send loses its lease when it expires and the row is
sent again: at-least-once, with the receiver's dedup key (PagerDuty dedup_key, Alertmanager
labels) absorbing that rare repeat. Rows of one group go out in order: a row waits while an
earlier one with its dedup_key is pending, so a resolve never overtakes its trigger.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from store import schema_alerts as t
from store.cycle_lock import write_transaction

__all__ = ["OutboxRow", "claim_due", "next_due_at", "record_attempt", "release"]


@dataclass(frozen=True)
class OutboxRow:
    id: int
    receiver: str
    dedup_key: str
    sequence: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    next_attempt_at: datetime
    first_attempt_at: datetime | None


def claim_due(engine: Engine, now: datetime, worker: str, lease: timedelta, limit: int = 20) -> list[OutboxRow]:
    """Lease up to ``limit`` pending rows due at ``now`` (oldest first) to ``worker``."""
    n = t.notifications
    earlier = n.alias("earlier")
    blocked = sa.exists().where(earlier.c.dedup_key == n.c.dedup_key, earlier.c.status == "pending", earlier.c.sequence < n.c.sequence)
    query = (
        sa.select(n.c.id, n.c.receiver, n.c.dedup_key, n.c.sequence, n.c.kind, n.c.payload, n.c.attempts,
                  n.c.next_attempt_at, n.c.first_attempt_at)
        .where(n.c.status == "pending", n.c.next_attempt_at <= now,
               sa.or_(n.c.lease_until.is_(None), n.c.lease_until < now), ~blocked)
        .order_by(n.c.next_attempt_at, n.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=n)
    )
    with write_transaction(engine) as conn:
        rows = [OutboxRow(**row._mapping) for row in conn.execute(query)]
        if rows:
            conn.execute(n.update().where(n.c.id.in_([r.id for r in rows])).values(lease_owner=worker, lease_until=now + lease))
    return rows


def record_attempt(
    engine: Engine,
    row: OutboxRow,
    worker: str,
    at: datetime,
    *,
    ok: bool,
    status: int | None,
    error: str | None,
    duration_ms: float,
    next_attempt_at: datetime | None,
    failed: bool,
) -> bool:
    """Store one attempt's outcome and its delivery-log row; returns False (and writes nothing)
    when the worker's lease was lost meanwhile. ``next_attempt_at`` None with ``ok`` False and
    ``failed`` False is not allowed: a pending row must say when to try again."""
    if not ok and not failed and next_attempt_at is None:
        raise ValueError("a failed attempt that will be retried needs next_attempt_at")
    n = t.notifications
    values: dict[str, Any] = {
        "attempts": n.c.attempts + 1, "last_status": status, "last_error": error, "lease_owner": None, "lease_until": None,
        "first_attempt_at": sa.func.coalesce(n.c.first_attempt_at, at),
        "status": "sent" if ok else ("failed" if failed else "pending"),
    }
    if ok:
        values["sent_at"] = at
    elif next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    with write_transaction(engine) as conn:
        updated = conn.execute(n.update().where(n.c.id == row.id, n.c.lease_owner == worker, n.c.status == "pending").values(**values))
        if updated.rowcount != 1:
            return False
        conn.execute(t.delivery_attempts.insert().values(
            notification=row.id, attempt=row.attempts + 1, at=at, ok=ok, status=status, error=error,
            duration_ms=duration_ms, worker=worker,
        ))
    return True


def release(engine: Engine, rows: Sequence[OutboxRow], worker: str, not_before: datetime) -> None:
    """Give leased rows back unsent (rate limited), due again at ``not_before``; no attempt counted."""
    if not rows:
        return
    n = t.notifications
    with write_transaction(engine) as conn:
        for row in rows:
            conn.execute(
                n.update().where(n.c.id == row.id, n.c.lease_owner == worker)
                .values(lease_owner=None, lease_until=None, next_attempt_at=max(row.next_attempt_at, not_before))
            )


def next_due_at(engine: Engine) -> datetime | None:
    """When the earliest pending row is due (None when the outbox is drained)."""
    n = t.notifications
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.min(n.c.next_attempt_at)).where(n.c.status == "pending")).scalar()
