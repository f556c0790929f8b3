"""Window claims (``analysis_windows``): how scheduler replicas share work through the database.

- First run: ``INSERT ... ON CONFLICT DO NOTHING`` on the window's key; the one insert that
  lands owns the window. A window whose claim expired (its scheduler crashed) or that failed
  (after a back-off, up to ``max_attempts``) is taken over by a conditional UPDATE -- only one
  writer can see the condition true, on PostgreSQL (row lock, re-check) and SQLite (one writer).
- Late labels: a done window is claimed again only while its ``labels_checked_at`` is older than
  the newest label received for it, so replicas that found the same label rerun it once.
- Completion is fenced: ``complete`` commits only if the caller still owns the running claim,
  inside the transaction that replaces the results, so a scheduler whose lease ran out and was
  overtaken rolls its results back instead of overwriting the new owner's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from store.schema_scheduler import analysis_windows as W

RUNNING, DONE, FAILED = "running", "done", "failed"
MAX_ERROR_CHARS = 1_000


class Refresh(str, Enum):
    claimed = "claimed"
    current = "current"  # already ran with these labels visible
    busy = "busy"  # another scheduler is running it now
    absent = "absent"  # never analysed: its first run will see the labels


@dataclass(frozen=True)
class WindowState:
    start: datetime
    end: datetime
    status: str
    owner: str | None
    lease_until: datetime | None
    attempts: int
    n_rows: int | None
    weight: float | None
    labels_checked_at: datetime | None


def _key(model: str, start: datetime, end: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(W.c.model == model, W.c.window_start == start, W.c.window_end == end)


def window_states(engine: Engine, model: str, since: datetime, until: datetime) -> dict[tuple[datetime, datetime], WindowState]:
    """Claims of ``model``'s windows starting in ``[since, until)``, by (start, end)."""
    query = sa.select(W).where(W.c.model == model, W.c.window_start >= since, W.c.window_start < until)
    with engine.connect() as conn:
        return {(r.window_start, r.window_end): WindowState(
            r.window_start, r.window_end, r.status, r.owner, r.lease_until, r.attempts, r.n_rows, r.weight,
            r.labels_checked_at) for r in conn.execute(query)}


def claim_window(engine: Engine, model: str, start: datetime, end: datetime, owner: str, now: datetime,
                 lease: timedelta, *, max_attempts: int = 3, force: bool = False) -> bool:
    """Claim a window for its (re)analysis; True when ``owner`` now holds it.

    Taken when new, when a running claim's lease expired, when failed and its back-off passed
    with attempts left, or -- ``force`` (backfill) -- whenever no live claim holds it.
    """
    fresh = {"model": model, "window_start": start, "window_end": end, "status": RUNNING, "owner": owner,
             "lease_until": now + lease, "attempts": 1, "started_at": now}
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    with engine.begin() as conn:
        inserted = conn.execute(dialect.insert(W).values(**fresh).on_conflict_do_nothing()
                                .returning(W.c.model)).first()
        if inserted is not None:
            return True
        expired = sa.and_(W.c.status == RUNNING, W.c.lease_until < now)
        retry = sa.and_(W.c.status == FAILED, W.c.lease_until < now, W.c.attempts < max_attempts)
        takeable = sa.or_(expired, W.c.status != RUNNING) if force else sa.or_(expired, retry)
        return _take(conn, model, start, end, takeable, owner, now, lease)


def _take(conn: Connection, model: str, start: datetime, end: datetime, condition: sa.ColumnElement[bool],
          owner: str, now: datetime, lease: timedelta) -> bool:
    result = conn.execute(W.update().where(_key(model, start, end), condition).values(
        status=RUNNING, owner=owner, lease_until=now + lease, attempts=W.c.attempts + 1, started_at=now,
        error=None))
    return result.rowcount == 1


def claim_label_refresh(engine: Engine, model: str, start: datetime, end: datetime, owner: str, now: datetime,
                        lease: timedelta, newest_label: datetime) -> Refresh:
    """Claim a done window for a performance rerun if a label received at ``newest_label`` may
    not have been visible to its last run."""
    stale = sa.and_(W.c.status == DONE,
                    sa.or_(W.c.labels_checked_at.is_(None), W.c.labels_checked_at < newest_label))
    with engine.begin() as conn:
        if _take(conn, model, start, end, stale, owner, now, lease):
            return Refresh.claimed
        status = conn.execute(sa.select(W.c.status).where(_key(model, start, end))).scalar_one_or_none()
    if status is None:
        return Refresh.absent
    return Refresh.busy if status == RUNNING else Refresh.current


def complete(conn: Connection, model: str, start: datetime, end: datetime, owner: str, now: datetime, *,
             n_rows: int, weight: float, n_labels: int | None, labels_checked_at: datetime | None) -> bool:
    """Mark the claim done, inside the caller's transaction; False when ``owner`` lost it (the
    caller must roll back). Label fields None (a run without performance): left as they were."""
    labels = {} if labels_checked_at is None else {"n_labels": n_labels, "labels_checked_at": labels_checked_at}
    result = conn.execute(W.update().where(_key(model, start, end), W.c.owner == owner, W.c.status == RUNNING).values(
        status=DONE, finished_at=now, lease_until=None, error=None, n_rows=n_rows, weight=weight, **labels))
    return result.rowcount == 1


def fail(engine: Engine, model: str, start: datetime, end: datetime, owner: str, now: datetime, error: str,
         retry_after: timedelta, *, back_to_done: bool = False) -> None:
    """Record a failed run: failed with a back-off, or -- a failed label refresh, whose older
    results stand -- back to done, keeping its label check time so the refresh is retried."""
    values = {"status": DONE, "lease_until": None} if back_to_done else \
        {"status": FAILED, "lease_until": now + retry_after}
    with engine.begin() as conn:
        conn.execute(W.update().where(_key(model, start, end), W.c.owner == owner, W.c.status == RUNNING)
                     .values(finished_at=now, error=error[:MAX_ERROR_CHARS], **values))


def release(engine: Engine, model: str, start: datetime, end: datetime, owner: str) -> None:
    """Give a claim back unrun (shutdown): it expires now instead of at its lease's end."""
    with engine.begin() as conn:
        conn.execute(W.update().where(_key(model, start, end), W.c.owner == owner, W.c.status == RUNNING)
                     .values(lease_until=sa.func.coalesce(W.c.started_at, W.c.lease_until)))
