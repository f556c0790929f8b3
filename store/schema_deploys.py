"""Tables of deployment-aware monitoring (issue 8): deploy events and retrain triggers. They join
store.schema.metadata.

``deploys`` is the history (a version may be deployed, rolled back and deployed again);
``model_versions`` keeps one row per version with its latest deploy. ``retrain_triggers`` records
each retrain webhook the alert cycle decided to call, and each it held back (cooldown, daily cap),
so "why did (or didn't) drift retrain the model" has an answer in the store.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text

from store.schema import metadata
from store.types import JsonDocument, UtcDateTime

deploys = Table(
    "deploys", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("time", UtcDateTime, nullable=False),
    Column("model", String(128), nullable=False),
    Column("version", String(128), nullable=False),
    Column("source", String(16), nullable=False),  # api | cli | sdk (inferred from a new version)
    Column("artifact_sha256", String(64)),
    Column("note", Text),
    Column("actor", String(128), nullable=False),  # token name, "cli", or "sdk"
    Index("ix_deploys_model_time", "model", "time"),
)

retrain_triggers = Table(
    "retrain_triggers", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("time", UtcDateTime, nullable=False),
    Column("model", String(128), nullable=False),
    Column("receiver", String(128), nullable=False),
    Column("group_key", String(512), nullable=False),
    Column("alertnames", Text, nullable=False),  # comma separated, the alerts that asked for it
    Column("status", String(16), nullable=False),  # sent | cooldown | capped
    Column("details", JsonDocument),
    Index("ix_retrain_triggers_model_time", "model", "time"),
)
