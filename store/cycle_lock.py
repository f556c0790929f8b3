"""One alert cycle at a time across scheduler processes: a database lock around its transaction.

PostgreSQL: ``pg_try_advisory_xact_lock`` at the start of the transaction; a second scheduler
does not wait, it skips the cycle (the holder is doing it) and the lock ends with the
transaction, even if its process dies. SQLite: ``BEGIN IMMEDIATE`` takes the database's write
lock, so a second cycle waits (busy_timeout) and then runs on the state the first committed,
where it finds nothing new to send. The outbox's unique key is the second line of defence.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

__all__ = ["ALERT_CYCLE_LOCK", "locked_transaction", "write_transaction"]


def _lock_id(name: str) -> int:
    # A stable signed 64-bit key derived from the name (advisory locks take a bigint).
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


ALERT_CYCLE_LOCK = _lock_id("modelwatch.alert_cycle")


@contextmanager
def locked_transaction(engine: Engine, lock: int = ALERT_CYCLE_LOCK) -> Iterator[Connection | None]:
    """A transaction holding ``lock``; yields None (and does nothing) when another holds it.
    Commits when the block ends normally, rolls back when it raises."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            acquired = conn.execute(sa.select(sa.func.pg_try_advisory_xact_lock(lock))).scalar()
            yield conn if acquired else None
        return
    with write_transaction(engine) as conn:
        yield conn


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that writes; on SQLite it holds the write lock from its first statement, so
    a read-then-update inside it (claiming outbox rows) is atomic. Commits, or rolls back on error."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            yield conn
        return
    with engine.connect() as conn:
        # pysqlite would defer BEGIN to the first write; take the write lock now instead.
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.rollback()
            raise
        conn.commit()
