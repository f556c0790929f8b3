"""Stored reference profiles: ``references.profile`` and the raw rows it is fitted from once.

The fitting itself is analysis's (analysis/jobs/profiles.py); here are the reads and the
conditional write.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from store import schema


@dataclass(frozen=True)
class StoredReference:
    id: int
    model: str
    name: str
    sha256: str
    n_rows: int
    profile: dict[str, Any] | None  # the stored profile document, None until fitted


def stored_reference(engine: Engine, model: str, name: str = "default",
                     with_profile: bool = True) -> StoredReference | None:
    """The reference ``name`` of ``model`` (with its stored profile document unless
    ``with_profile`` is False: the document can be large), or None."""
    refs = schema.references
    # the raw text, decoded by msgspec: several times faster than the JSON type's json.loads
    profile = sa.cast(refs.c.profile, sa.Text) if with_profile else sa.null()
    with engine.connect() as conn:
        row = conn.execute(sa.select(refs.c.id, refs.c.sha256, refs.c.n_rows, profile.label("profile"))
                           .where(refs.c.model == model, refs.c.name == name)).first()
    if row is None:
        return None
    document = None if row.profile is None else msgspec.json.decode(row.profile)
    return StoredReference(row.id, model, name, row.sha256, row.n_rows, document)


def reference_feature_texts(engine: Engine, reference_id: int) -> list[str]:
    """The feature documents of a reference's rows as raw JSON text, in upload order (decoded
    by the caller in one msgspec call, not by json.loads per row)."""
    rows = schema.reference_rows
    with engine.connect() as conn:
        return list(conn.execute(sa.select(sa.cast(rows.c.features, sa.Text))
                                 .where(rows.c.reference_id == reference_id).order_by(rows.c.row)).scalars())


def store_profile(engine: Engine, reference: StoredReference, document: dict[str, Any]) -> bool:
    """Save ``document`` as the reference's profile unless the reference was replaced since it
    was read (sha256 changed); returns whether it was saved."""
    refs = schema.references
    with engine.begin() as conn:
        result = conn.execute(refs.update().where(refs.c.id == reference.id, refs.c.sha256 == reference.sha256)
                              .values(profile=document))
    return bool(result.rowcount)
