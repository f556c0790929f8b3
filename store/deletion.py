"""Deletion requests (GDPR-style erasure): every stored row about some predictions, gone.

A request names a model and either prediction ids or an entity (a feature or slice key and its
value). Matching predictions, their labels and their shadow outputs are deleted in one
transaction together with an audit row that says who asked, what kind of request it was and how
many rows went — the subject itself only as a SHA-256 digest.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from store import audit, schema
from store import schema_shadow as shadow

__all__ = ["DeletionReport", "Entity", "delete_predictions"]

_CHUNK = 500  # ids per IN list: far below every driver's bind-parameter limit


@dataclass(frozen=True)
class Entity:
    """A feature or slice ``key`` whose stored value is one of ``values`` (the raw value, and its
    keyed hash when the model's PII policy hashes that field)."""

    key: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class DeletionReport:
    model: str
    matched_ids: int  # distinct prediction ids the request resolved to
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows deleted (or that would be)
    dry_run: bool = False

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start:start + _CHUNK]


def _as_text(column: sa.ColumnElement, key: str) -> sa.ColumnElement:
    # ->> on PostgreSQL, JSON_EXTRACT on SQLite; the cast makes a stored 42 match "42" on both.
    return sa.cast(column[key].as_string(), sa.Text)


def resolve_entity(conn: Connection, model: str, entity: Entity) -> list[str]:
    """Prediction ids of ``model`` whose features or slice tags hold ``entity``'s value."""
    p = schema.predictions
    values = list(entity.values)
    query = sa.select(p.c.prediction_id).distinct().where(
        p.c.model == model,
        sa.or_(_as_text(p.c.features, entity.key).in_(values), _as_text(p.c.slices, entity.key).in_(values)),
    )
    return [row[0] for row in conn.execute(query)]


def _delete_ids(conn: Connection, model: str, ids: Sequence[str], dry_run: bool) -> dict[str, int]:
    p, lab, out, cand = schema.predictions, schema.labels, shadow.shadow_outputs, shadow.candidates
    candidate_ids = sa.select(cand.c.id).where(cand.c.model == model).scalar_subquery()
    targets = {
        "predictions": (p, p.c.model == model, p.c.prediction_id),
        "labels": (lab, lab.c.model == model, lab.c.prediction_id),
        "shadow_outputs": (out, out.c.candidate_id.in_(candidate_ids), out.c.prediction_id),
    }
    counts = dict.fromkeys(targets, 0)
    for chunk in _chunks(ids):
        for name, (table, scope, id_column) in targets.items():
            where = sa.and_(scope, id_column.in_(list(chunk)))
            if dry_run:
                counts[name] += conn.execute(sa.select(sa.func.count()).select_from(table).where(where)).scalar_one()
            else:
                counts[name] += conn.execute(table.delete().where(where)).rowcount
    return counts


def delete_predictions(engine: Engine, model: str, *, actor: str, prediction_ids: Sequence[str] = (),
                       stored_ids: Sequence[str] = (), entity: Entity | None = None, dry_run: bool = False,
                       now: datetime | None = None) -> DeletionReport:
    """Delete ``model``'s predictions, labels and shadow outputs for ``prediction_ids`` or for
    every prediction holding ``entity``, and audit it (dry runs only count, and are not audited).
    ``stored_ids`` are other forms the ids may be stored in (their keyed hashes, when the PII
    policy hashes ids): matched too, but not part of the audited subject.
    Returns the rows deleted per table. Raises ValueError unless exactly one of the two is given."""
    if bool(prediction_ids) == (entity is not None):
        raise ValueError("give prediction ids or an entity, not both and not neither")
    with engine.begin() as conn:
        ids = sorted(set(prediction_ids)) if entity is None else resolve_entity(conn, model, entity)
        wanted = ids if entity is not None else sorted(set(ids).union(stored_ids))
        counts = _delete_ids(conn, model, wanted, dry_run)
        if not dry_run:
            subject = list(prediction_ids) if entity is None else [f"{entity.key}={entity.values[0]}"]
            audit.record(conn, actor, "deletion.request", f"model:{model}", {
                "by": "prediction_id" if entity is None else "entity",
                "key": None if entity is None else entity.key,
                "subject_sha256": audit.subject_digest(subject),
                "subjects": len(set(subject)),
                "matched_ids": len(ids),
                "rows": counts,
            }, now or datetime.now(timezone.utc))
    return DeletionReport(model, len(ids), counts, dry_run)
