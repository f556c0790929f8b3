"""Engines for PostgreSQL (psycopg 3) and SQLite, created on demand and passed in."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached; callers answer 503 and ask the client to retry."""


def normalize_url(url: str | URL) -> URL:
    """Accept the URLs people paste (postgres://, postgresql://) and pick the psycopg 3 driver."""
    parsed = make_url(str(url).replace("postgres://", "postgresql://", 1) if isinstance(url, str) else url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the dashboard read while the collector writes; NORMAL is durable in WAL mode
    # except on power loss, which matches what an embedded default promises.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def create_engine(url: str | URL, **kwargs: Any) -> Engine:
    """Create an engine for ``url``. SQLite gets WAL and a busy timeout; PostgreSQL a pool
    with pre-ping so a restarted server is noticed instead of failing the first request."""
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = sa.create_engine(parsed, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    options: dict[str, Any] = {"pool_pre_ping": True, "pool_size": 5, "max_overflow": 5}
    options.update(kwargs)
    connect_args = dict(options.pop("connect_args", {}))
    connect_args.setdefault("connect_timeout", 5)
    return sa.create_engine(parsed, connect_args=connect_args, **options)


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"
