"""The candidate registry: register (validated), list, remove, and load for replay.

An artifact is immutable: a name is bound to one SHA-256 forever, so stored outputs always mean
one model. Registering the same file under the same name again is a no-op (it revives a removed
candidate); a changed file under a taken name is refused. Every change (a candidate added or
revived, removed, or a production reference retired) writes an audit_log row in its transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from config.monitors import Model, is_valid_name
from shadow.artifact import sha256_of
from shadow.errors import CandidateExists, CandidateNotFound, ShadowError
from shadow.infer import Runnable
from shadow.mapping import InputMapping, mapping_document, parse_mapping
from shadow.outputs import OutputSemantics, parse_semantics
from shadow.prepare import prepare
from shadow.session import SessionConfig
from shadow.validate import sample_run
from store import audit
from store.schema_shadow import candidates, shadow_artifacts
from store.upsert import insert_or_ignore

__all__ = ["Candidate", "LoadedCandidate", "Registration", "get_candidate", "list_candidates", "load_candidate",
           "register_candidate", "remove_candidate"]

PRODUCTION_PREFIX = "production-"


@dataclass(frozen=True)
class Candidate:
    id: int
    model: str
    name: str
    sha256: str
    mapping: InputMapping
    semantics: OutputSemantics
    production: bool
    sample_rate: float
    provider: str | None
    created_at: datetime
    removed_at: datetime | None

    @property
    def active(self) -> bool:
        return self.removed_at is None


@dataclass(frozen=True)
class Registration:
    candidate: Candidate
    created: bool  # False: this name already held these bytes
    provider: str  # execution provider in use during validation
    sample_rows: int  # stored rows run at validation (0: a synthetic row was run)
    production: Candidate | None = None


@dataclass(frozen=True, eq=False)
class LoadedCandidate:
    candidate: Candidate
    runnable: Runnable


def _candidate(row: Any) -> Candidate:
    return Candidate(id=row.id, model=row.model, name=row.name, sha256=row.sha256, mapping=parse_mapping(row.mapping),
                     semantics=parse_semantics(row.outputs), production=row.production, sample_rate=row.sample_rate,
                     provider=row.provider, created_at=row.created_at, removed_at=row.removed_at)


def _by_name(conn: Connection, model: str, name: str) -> Candidate | None:
    row = conn.execute(sa.select(candidates).where(candidates.c.model == model, candidates.c.name == name)).first()
    return None if row is None else _candidate(row)


def get_candidate(engine: Engine, model: str, name: str) -> Candidate:
    """The active candidate; raises CandidateNotFound."""
    with engine.connect() as conn:
        found = _by_name(conn, model, name)
    if found is None or not found.active:
        raise CandidateNotFound(model, name)
    return found


def list_candidates(engine: Engine, model: str | None = None, include_removed: bool = False,
                    production: bool | None = None) -> list[Candidate]:
    """Candidates by model and creation; production rows (noise floor) included unless asked."""
    query = sa.select(candidates).order_by(candidates.c.model, candidates.c.created_at, candidates.c.id)
    if model is not None:
        query = query.where(candidates.c.model == model)
    if not include_removed:
        query = query.where(candidates.c.removed_at.is_(None))
    if production is not None:
        query = query.where(candidates.c.production.is_(production))
    with engine.connect() as conn:
        return [_candidate(r) for r in conn.execute(query)]


def _insert(conn: Connection, model: Model, name: str, content: bytes, sha: str, mapping: InputMapping,
            semantics: OutputSemantics, production: bool, sample_rate: float, provider: str, now: datetime) -> None:
    insert_or_ignore(conn, shadow_artifacts, [{"sha256": sha, "size_bytes": len(content), "content": content,
                                               "created_at": now}])
    conn.execute(candidates.insert().values(
        model=model.name, name=name, sha256=sha, mapping=mapping_document(mapping),
        outputs=semantics.model_dump(mode="json"), production=production, sample_rate=sample_rate,
        provider=provider, created_at=now, removed_at=None))


def _target(model: str, name: str) -> str:
    return f"model:{model}/candidate:{name}"


def _register_one(engine: Engine, model: Model, name: str, content: bytes, mapping: InputMapping | None,
                  semantics: OutputSemantics | None, production: bool, sample_rate: float,
                  config: SessionConfig | None, now: datetime, actor: str) -> Registration:
    sha = sha256_of(content)
    with engine.connect() as conn:
        existing = _by_name(conn, model.name, name)
    if existing is not None and existing.sha256 != sha:
        raise CandidateExists(model.name, name, existing.sha256, sha)
    prepared = prepare(content, model, mapping, semantics, config)
    sample_rows = sample_run(engine, model, prepared.runnable)
    provider = prepared.runnable.session.provider
    with engine.begin() as conn:
        if existing is None:
            _insert(conn, model, name, content, sha, prepared.mapping, prepared.semantics, production, sample_rate,
                    provider, now)
        else:
            conn.execute(candidates.update().where(candidates.c.id == existing.id)
                         .values(removed_at=None, provider=provider))
        if existing is None or not existing.active:  # registering an active one again changes nothing
            audit.record(conn, actor, "shadow.add", _target(model.name, name), {
                "sha256": sha, "size_bytes": len(content), "production": production, "sample_rate": sample_rate,
                "revived": existing is not None, "provider": provider}, now)
        if production:
            # One production reference per model: a new production file retires the previous one.
            _retire_production(conn, model.name, name, now, actor)
        stored = _by_name(conn, model.name, name)
    assert stored is not None
    return Registration(candidate=stored, created=existing is None, provider=provider, sample_rows=sample_rows)


def _retire_production(conn: Connection, model: str, keep: str, now: datetime, actor: str) -> None:
    retired = conn.execute(sa.select(candidates.c.id, candidates.c.name).where(
        candidates.c.model == model, candidates.c.production.is_(True), candidates.c.name != keep,
        candidates.c.removed_at.is_(None))).all()
    for row in retired:
        conn.execute(candidates.update().where(candidates.c.id == row.id).values(removed_at=now))
        audit.record(conn, actor, "shadow.remove", _target(model, row.name), {"replaced_by": keep}, now)


def register_candidate(engine: Engine, model: Model, name: str, content: bytes, mapping: InputMapping | None = None,
                       semantics: OutputSemantics | None = None, production: bytes | None = None,
                       sample_rate: float = 1.0, config: SessionConfig | None = None,
                       now: datetime | None = None, actor: str | None = None) -> Registration:
    """Validate and store candidate ``name`` of ``model`` (and, with ``production``, the
    production model's ONNX for the noise floor, as ``production-<sha256[:12]>``).

    Validation: ONNX Runtime loads the file; the mapping fits the model's features and the
    graph's inputs (names, float types, widths); outputs are interpreted; up to 64 stored rows
    of the model (or one synthetic row when none are stored) run without error. Audited as
    ``shadow.add`` by ``actor`` (default: this process, ``shadow@host:pid``).
    Raises InvalidArtifact, InvalidMapping, SampleRunFailed or CandidateExists."""
    now = now or datetime.now(timezone.utc)
    actor = actor or audit.process_actor("shadow")
    if not is_valid_name(name) or name.startswith(PRODUCTION_PREFIX):
        raise ShadowError(f"invalid candidate name {name!r}: letters, digits, _.- (and not {PRODUCTION_PREFIX}*)")
    if not 0.0 < sample_rate <= 1.0:
        raise ShadowError(f"sample_rate must be in (0, 1], got {sample_rate}")
    reference = None
    if production is not None:
        reference = _register_one(engine, model, PRODUCTION_PREFIX + sha256_of(production)[:12], production, mapping,
                                  None, True, sample_rate, config, now, actor).candidate
    registration = _register_one(engine, model, name, content, mapping, semantics, False, sample_rate, config, now,
                                 actor)
    return Registration(registration.candidate, registration.created, registration.provider,
                        registration.sample_rows, reference)


def remove_candidate(engine: Engine, model: str, name: str, now: datetime | None = None,
                     actor: str | None = None) -> Candidate:
    """Stop replaying ``name`` (its outputs stay for reports), audited as ``shadow.remove`` by
    ``actor`` (default: this process). Raises CandidateNotFound."""
    found = get_candidate(engine, model, name)
    now = now or datetime.now(timezone.utc)
    with engine.begin() as conn:
        changed = conn.execute(candidates.update().where(candidates.c.id == found.id,
                                                         candidates.c.removed_at.is_(None)).values(removed_at=now))
        if changed.rowcount:  # a concurrent remove of the same candidate is audited once
            audit.record(conn, actor or audit.process_actor("shadow"), "shadow.remove", _target(model, name),
                         {"sha256": found.sha256, "production": found.production}, now)
        removed = _by_name(conn, model, name)
    assert removed is not None
    return removed


def load_candidate(engine: Engine, model: Model, candidate: Candidate, config: SessionConfig | None = None) -> LoadedCandidate:
    """A session on the stored artifact, as registered; records the provider really in use."""
    with engine.connect() as conn:
        content = conn.execute(sa.select(shadow_artifacts.c.content)
                               .where(shadow_artifacts.c.sha256 == candidate.sha256)).scalar_one()
    prepared = prepare(bytes(content), model, candidate.mapping, candidate.semantics, config, resolved=True)
    provider = prepared.runnable.session.provider
    if provider != candidate.provider:
        with engine.begin() as conn:
            conn.execute(candidates.update().where(candidates.c.id == candidate.id).values(provider=provider))
    return LoadedCandidate(candidate=candidate, runnable=prepared.runnable)
