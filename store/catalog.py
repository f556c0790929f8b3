"""The model catalog (the ``models`` table mirrors monitors.yaml) and reference datasets."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from config.monitors import Model, Monitors
from store import schema

if TYPE_CHECKING:
    import pandas as pd

_INSERT_CHUNK = 5_000  # rows per executemany: bounded memory, few round trips


class ReferenceExists(RuntimeError):
    """A reference with this name exists for the model and replacing it was not asked for."""

    def __init__(self, model: str, name: str) -> None:
        super().__init__(f"model {model!r} already has a reference named {name!r}; pass replace=true to replace it")
        self.model = model
        self.name = name


@dataclass(frozen=True)
class ReferenceInfo:
    id: int
    model: str
    name: str
    n_rows: int
    sha256: str
    created_at: datetime
    replaced: bool = False  # True when this write replaced an older reference of the same name


@dataclass(frozen=True)
class ReferenceRow:
    row: int
    features: dict[str, Any]
    prediction: str | None
    score: float | None
    label: str | None


def _dialect_insert(conn: Connection, table: sa.Table) -> Any:
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(table)


def sync_models(engine: Engine, monitors: Monitors) -> int:
    """Upsert one ``models`` row per declared model (spec = the model as JSON); returns how
    many were written. Models no longer declared are kept: stored data still refers to them."""
    if not monitors.models:
        return 0
    now = datetime.now(timezone.utc)
    rows = [
        {"name": m.name, "task": m.task.value, "spec": m.model_dump(mode="json"), "created_at": now, "updated_at": now}
        for m in monitors.models
    ]
    with engine.begin() as conn:
        stmt = _dialect_insert(conn, schema.models)
        stmt = stmt.on_conflict_do_update(
            index_elements=[schema.models.c.name],
            set_={"task": stmt.excluded.task, "spec": stmt.excluded.spec, "updated_at": stmt.excluded.updated_at},
        )
        conn.execute(stmt, rows)
    return len(rows)


def _clean(value: Any) -> Any:
    # pandas hands missing values back as NaN / NaT / pd.NA; the store keeps them as null.
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if type(value).__name__ in ("NAType", "NaTType"):
        return None
    return value


def _flat_rows(data: pd.DataFrame | Sequence[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    if hasattr(data, "to_dict"):
        yield from data.to_dict("records")  # type: ignore[union-attr]
    else:
        yield from data


def _split_rows(model: Model, data: pd.DataFrame | Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Flat rows (feature columns + the model's prediction/score/label columns) -> the
    reference_rows shape. Raises ValueError naming a column that is neither."""
    feature_names = [f.name for f in model.features]
    outputs = {model.prediction_field, model.score_field, model.label_field}
    known = set(feature_names) | outputs
    out = []
    for i, flat in enumerate(_flat_rows(data)):
        if i == 0:
            unknown = sorted(set(flat) - known)
            if unknown:
                raise ValueError(f"unknown column(s) for model {model.name!r}: {', '.join(unknown)}")
        prediction = _clean(flat.get(model.prediction_field))
        score = _clean(flat.get(model.score_field))
        label = _clean(flat.get(model.label_field))
        out.append({
            "row": i,
            "features": {name: _clean(flat.get(name)) for name in feature_names},
            "prediction": None if prediction is None else str(prediction),
            "score": None if score is None else float(score),
            "label": None if label is None else str(label),
        })
    return out


def _content_sha256(rows: list[dict[str, Any]]) -> str:
    return hashlib.sha256(msgspec.json.encode(rows, order="sorted")).hexdigest()


def write_reference(
    engine: Engine,
    model: Model,
    name: str,
    data: pd.DataFrame | Sequence[Mapping[str, Any]],
    replace: bool = False,
    sha256: str | None = None,
    actor: str = "api",
) -> ReferenceInfo:
    """Store a baseline dataset for ``model`` under ``name`` in one transaction and return
    its info. ``data`` is already validated and redacted; ``sha256`` identifies its source
    (the uploaded file), else it is computed over the rows; ``actor`` goes to the audit log.
    Raises ReferenceExists when the
    name is taken and ``replace`` is false, ValueError for a column the model does not have."""
    rows = _split_rows(model, data)
    digest = sha256 or _content_sha256(rows)
    now = datetime.now(timezone.utc)
    refs, ref_rows = schema.references, schema.reference_rows
    try:
        with engine.begin() as conn:
            old = conn.execute(
                sa.select(refs.c.id).where(refs.c.model == model.name, refs.c.name == name)
            ).scalar_one_or_none()
            if old is not None:
                if not replace:
                    raise ReferenceExists(model.name, name)
                # Rows first: does not depend on ON DELETE CASCADE being enforced (SQLite pragma).
                conn.execute(ref_rows.delete().where(ref_rows.c.reference_id == old))
                conn.execute(refs.delete().where(refs.c.id == old))
            ref_id = conn.execute(refs.insert().values(
                model=model.name, name=name, created_at=now, n_rows=len(rows), sha256=digest,
            )).inserted_primary_key[0]  # type: ignore[index]
            for start in range(0, len(rows), _INSERT_CHUNK):
                chunk = rows[start:start + _INSERT_CHUNK]
                conn.execute(ref_rows.insert(), [{"reference_id": ref_id, **r} for r in chunk])
            conn.execute(schema.audit_log.insert().values(
                time=now, actor=actor, action="reference.replace" if old is not None else "reference.create",
                target=f"model:{model.name}/reference:{name}", details={"n_rows": len(rows), "sha256": digest},
            ))
    except IntegrityError as exc:
        # Two uploads of the same new name raced; the loser sees the unique key.
        raise ReferenceExists(model.name, name) from exc
    return ReferenceInfo(ref_id, model.name, name, len(rows), digest, now, replaced=old is not None)


def _reference_info(row: sa.Row) -> ReferenceInfo:
    return ReferenceInfo(row.id, row.model, row.name, row.n_rows, row.sha256, row.created_at)


def get_reference(engine: Engine, model: str, name: str = "default") -> ReferenceInfo | None:
    """The reference's info, or None when the model has none by that name."""
    refs = schema.references
    with engine.connect() as conn:
        row = conn.execute(sa.select(refs).where(refs.c.model == model, refs.c.name == name)).first()
    return None if row is None else _reference_info(row)


def list_references(engine: Engine, model: str) -> list[ReferenceInfo]:
    """Every reference stored for ``model``, by name."""
    refs = schema.references
    with engine.connect() as conn:
        rows = conn.execute(sa.select(refs).where(refs.c.model == model).order_by(refs.c.name))
        return [_reference_info(row) for row in rows]


def get_reference_rows(engine: Engine, model: str, name: str = "default") -> list[ReferenceRow]:
    """The reference's rows in upload order; empty when there is no such reference."""
    refs, ref_rows = schema.references, schema.reference_rows
    query = (
        sa.select(ref_rows.c.row, ref_rows.c.features, ref_rows.c.prediction, ref_rows.c.score, ref_rows.c.label)
        .join(refs, refs.c.id == ref_rows.c.reference_id)
        .where(refs.c.model == model, refs.c.name == name)
        .order_by(ref_rows.c.row)
    )
    with engine.connect() as conn:
        return [ReferenceRow(r.row, r.features, r.prediction, r.score, r.label) for r in conn.execute(query)]
