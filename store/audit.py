"""The audit log: who did what to the store, and how much of it — never the personal values.

Every administrative change is one ``audit_log`` row (actor, action, target, details), written
in the same transaction as the change where there is one. Subjects of deletion requests appear
only as SHA-256 digests, so the log proves a request was carried out without keeping the data it
asked to erase (an auditor hashes the value again to find its row).
"""

from __future__ import annotations

import getpass
import hashlib
import os
import socket
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from store import schema

__all__ = ["cli_actor", "config_sha256", "process_actor", "read_audit", "record", "record_config_load", "subject_digest"]


def record(conn: Connection, actor: str, action: str, target: str | None,
           details: Mapping[str, Any] | None = None, now: datetime | None = None) -> None:
    """Append one audit row on ``conn``; the caller's transaction makes it atomic with the change."""
    conn.execute(schema.audit_log.insert().values(
        time=now or datetime.now(timezone.utc), actor=actor[:128], action=action[:64],
        target=None if target is None else target[:256], details=dict(details) if details is not None else None,
    ))


def subject_digest(values: Iterable[str]) -> str:
    """Hex SHA-256 over the sorted, distinct values (newline separated): one digest per request,
    independent of the order the ids were given in."""
    joined = "\n".join(sorted(set(values)))
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()


def config_sha256(path: str | Path) -> str:
    """Hex SHA-256 of the config file's bytes, as loaded. Raises OSError when unreadable."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def process_actor(component: str) -> str:
    """``component@host:pid``: which process of the service did it."""
    return f"{component}@{socket.gethostname()[:64]}:{os.getpid()}"


def cli_actor() -> str:
    """``cli:<login>`` for a command someone ran by hand."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no login name in a container without /etc/passwd entry
        user = str(os.getuid())
    return f"cli:{user}"


def record_config_load(engine: Engine, path: str | Path, component: str, n_models: int) -> str:
    """Audit that ``component`` (collector, scheduler, shadow-runner, up) started with the monitors
    file at ``path``; returns its SHA-256, so two replicas running different configs show up."""
    digest = config_sha256(path)
    with engine.begin() as conn:
        record(conn, process_actor(component), "config.load", f"config:{Path(path).resolve()}",
               {"sha256": digest, "models": n_models, "component": component})
    return digest


def read_audit(engine: Engine, action: str | None = None, limit: int = 1000) -> list[sa.Row]:
    """Audit rows, oldest first, optionally of one action."""
    table = schema.audit_log
    query = sa.select(table).order_by(table.c.id).limit(limit)
    if action is not None:
        query = query.where(table.c.action == action)
    with engine.connect() as conn:
        return list(conn.execute(query))
