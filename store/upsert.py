"""INSERT ... ON CONFLICT for PostgreSQL and SQLite: the one dialect switch for idempotent writes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

__all__ = ["insert_or_ignore", "upsert"]


def _insert(conn: Connection, table: sa.Table) -> Any:
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(table)


def upsert(conn: Connection, table: sa.Table, rows: Sequence[dict[str, Any]], keys: Sequence[str]) -> None:
    """Insert ``rows``; a row whose ``keys`` exist replaces the stored values of its other columns."""
    if not rows:
        return
    stmt = _insert(conn, table)
    updates = {name: stmt.excluded[name] for name in rows[0] if name not in keys}
    stmt = stmt.on_conflict_do_update(index_elements=list(keys), set_=updates) if updates else stmt.on_conflict_do_nothing()
    conn.execute(stmt, list(rows))


def insert_or_ignore(conn: Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> int:
    """Insert ``rows``, skipping any that violate a unique key; returns how many were inserted."""
    if not rows:
        return 0
    stmt = _insert(conn, table).on_conflict_do_nothing().returning(table.primary_key.columns.values()[0])
    return len(conn.execute(stmt, list(rows)).all())
