"""Silences in the store: create, list, expire, each change written to audit_log with it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from store import schema
from store import schema_alerts as t

__all__ = ["expire_silence", "get_silence", "insert_silence", "list_silences"]


def insert_silence(engine: Engine, silence_id: str, matchers: Sequence[str], author: str, comment: str,
                   starts_at: datetime, ends_at: datetime, now: datetime, actor: str) -> None:
    """Store a (validated) silence and its audit_log row in one transaction."""
    with engine.begin() as conn:
        conn.execute(t.silences.insert().values(
            id=silence_id, matchers=list(matchers), author=author, comment=comment, starts_at=starts_at,
            ends_at=ends_at, created_at=now, expired_at=None,
        ))
        conn.execute(schema.audit_log.insert().values(
            time=now, actor=actor, action="silence.create", target=f"silence:{silence_id}",
            details={"matchers": list(matchers), "author": author, "starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat()},
        ))


def get_silence(engine: Engine, silence_id: str) -> sa.Row | None:
    with engine.connect() as conn:
        return conn.execute(sa.select(t.silences).where(t.silences.c.id == silence_id)).first()


def list_silences(engine: Engine, ended_after: datetime | None = None) -> list[sa.Row]:
    """Silences, newest first; only those ending after ``ended_after`` when given."""
    s = t.silences
    query = sa.select(s).order_by(s.c.created_at.desc(), s.c.id)
    if ended_after is not None:
        query = query.where(s.c.ends_at > ended_after)
    with engine.connect() as conn:
        return list(conn.execute(query))


def expire_silence(engine: Engine, silence_id: str, now: datetime, actor: str) -> bool:
    """End a silence at ``now`` (a pending one ends before it starts); False when it does not exist
    or has already ended. Audited."""
    s = t.silences
    with engine.begin() as conn:
        row = conn.execute(sa.select(s).where(s.c.id == silence_id, s.c.ends_at > now)).first()
        if row is None:
            return False
        conn.execute(s.update().where(s.c.id == silence_id).values(
            starts_at=min(row.starts_at, now), ends_at=now, expired_at=now))
        conn.execute(schema.audit_log.insert().values(
            time=now, actor=actor, action="silence.expire", target=f"silence:{silence_id}", details=None))
    return True
