"""Deploy events: recorded by hand (API, CLI) or inferred when a version's first traffic arrives.

``deploys`` is the history; ``model_versions`` keeps one row per version with its latest deploy
(deployed_at, artifact, note). A recorded deploy writes both and an audit row in one
transaction, so the history, the per-version summary and the audit trail never disagree.

The validation here is pure and shared by the collector route and the CLI, so both refuse the
same inputs with the same words. Reads are in store.deploy_reads.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from store import audit, schema
from store.schema_deploys import deploys

__all__ = [
    "ARTIFACT_PATTERN", "FUTURE_SKEW", "SOURCES", "VERSION_PATTERN", "DeployEvent", "deploy_problems",
    "insert_inferred_deploys", "record_deploy",
]

SOURCES = ("api", "cli", "sdk")
# Version names as deploy tooling writes them: 2.4.1, v3, 2024-05-01.1, 1.0.0+build.7, git:abc123.
VERSION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.+:\-]{0,127}$"
ARTIFACT_PATTERN = r"^[0-9a-fA-F]{64}$"
# A deploy stamped a little ahead of the collector's clock is clock skew; further is a mistake.
FUTURE_SKEW = timedelta(minutes=5)
EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)  # older is a typo (and year 1 overflows in UTC)
_VERSION = re.compile(VERSION_PATTERN)
_ARTIFACT = re.compile(ARTIFACT_PATTERN)


@dataclass(frozen=True)
class DeployEvent:
    """One ``deploys`` row."""

    id: int
    time: datetime
    model: str
    version: str
    source: str
    artifact_sha256: str | None
    note: str | None
    actor: str

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["time"] = self.time.isoformat()
        return out


def deploy_problems(model: str, version: str, artifact_sha256: str | None, note: str | None, time: datetime | None,
                    declared: Sequence[str], now: datetime) -> list[tuple[str, str]]:
    """What is wrong with a deploy to record, as (field, message) pairs; empty when it is fine.

    The model must be declared, the version a plain name (``VERSION_PATTERN``), the artifact 64
    hex characters, the note free of NUL (PostgreSQL cannot store it), and the time aware and at
    most ``FUTURE_SKEW`` ahead of ``now``."""
    problems: list[tuple[str, str]] = []
    if model not in declared:
        problems.append(("model", f"{model!r} is not declared in the monitors config"))
    if not _VERSION.fullmatch(version):
        problems.append(("version", f"must match {VERSION_PATTERN} (letters, digits, _ . + : -; at most 128)"))
    if artifact_sha256 is not None and not _ARTIFACT.fullmatch(artifact_sha256):
        problems.append(("artifact_sha256", "must be a SHA-256 as 64 hexadecimal characters"))
    if note is not None and "\x00" in note:
        problems.append(("note", "NUL character (\\u0000) is not allowed"))
    if time is not None:
        if time.tzinfo is None:
            problems.append(("time", "must carry a time zone offset (e.g. Z or +02:00)"))
        elif time > now + FUTURE_SKEW:
            problems.append(("time", f"is more than {int(FUTURE_SKEW.total_seconds() // 60)} minutes in the future"))
        elif time < EARLIEST:
            problems.append(("time", f"is before {EARLIEST.year}"))
    return problems


def _insert(conn: Connection, table: sa.Table) -> Any:
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(table)


def _upsert_version(conn: Connection, model: str, version: str, at: datetime, artifact_sha256: str | None,
                    note: str | None) -> None:
    """Insert the version (first seen at its deploy) or move its deployed_at forward. A deploy
    recorded late with an older time keeps the newer one; a missing artifact or note keeps the
    stored one (a redeploy of the same version is the same artifact)."""
    mv = schema.model_versions
    stmt = _insert(conn, mv).values(model=model, version=version, first_seen=at, deployed_at=at,
                                    artifact_sha256=artifact_sha256, note=note)
    newer = (mv.c.deployed_at.is_(None)) | (mv.c.deployed_at <= stmt.excluded.deployed_at)
    conn.execute(stmt.on_conflict_do_update(
        index_elements=[mv.c.model, mv.c.version], where=newer,
        set_={"deployed_at": stmt.excluded.deployed_at,
              "artifact_sha256": sa.func.coalesce(stmt.excluded.artifact_sha256, mv.c.artifact_sha256),
              "note": sa.func.coalesce(stmt.excluded.note, mv.c.note)},
    ))


def record_deploy(engine: Engine, model: str, version: str, *, source: str, actor: str, time: datetime,
                  artifact_sha256: str | None = None, note: str | None = None) -> DeployEvent:
    """Store one deploy: a ``deploys`` row, the version's ``model_versions`` row and an audit
    row, in one transaction. The model must exist in ``models`` (the catalog). Raises
    ValueError for an unknown source or a naive time."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}, got {source!r}")
    if time.tzinfo is None:
        raise ValueError(f"time must be timezone-aware, got {time!r}")
    time = time.astimezone(timezone.utc)  # stored and answered in UTC, as every time in the store
    sha = artifact_sha256.lower() if artifact_sha256 else None
    values = {"time": time, "model": model, "version": version, "source": source, "artifact_sha256": sha,
              "note": note, "actor": actor[:128]}
    with engine.begin() as conn:
        new_id = conn.execute(deploys.insert().values(**values).returning(deploys.c.id)).scalar_one()
        _upsert_version(conn, model, version, time, sha, note)
        # The note is free text someone typed: its length is audited, not its words.
        audit.record(conn, actor, "deploy.record", f"model:{model}",
                     {"version": version, "source": source, "artifact_sha256": sha, "time": time.isoformat(),
                      "note_chars": len(note or "")})
    return DeployEvent(int(new_id), time, model, version, source, sha, note, actor[:128])


def insert_inferred_deploys(conn: Connection, model: str, versions: Sequence[str], seen_at: datetime) -> None:
    """``source=sdk`` deploys for versions whose first traffic was just recorded (the caller
    passes only the versions its insert into model_versions actually added, so concurrent
    collectors infer each deploy once)."""
    if versions:
        conn.execute(deploys.insert(), [
            {"time": seen_at, "model": model, "version": v, "source": "sdk", "artifact_sha256": None, "note": None,
             "actor": "sdk"} for v in sorted(versions)])
