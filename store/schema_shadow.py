"""Tables of the shadow runner (issue 5): content-addressed ONNX artifacts, candidates,
candidate outputs per replayed prediction, and resume points. They join store.schema.metadata.

Artifacts are stored in the database (keyed by their SHA-256), not on a local disk, so the
runner can be a separate process or container that shares nothing with the CLI but the store.
``shadow_outputs`` has one row per (candidate, prediction id): replay inserts with ON CONFLICT
DO NOTHING, so a rerun or a resumed crash never stores an output twice.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger, Boolean, Column, Float, ForeignKey, Index, Integer, LargeBinary, PrimaryKeyConstraint,
    String, Table, Text, UniqueConstraint,
)

from store.schema import metadata
from store.types import JsonDocument, UtcDateTime

# Immutable ONNX files by content: two candidates with the same bytes share one row.
shadow_artifacts = Table(
    "shadow_artifacts", metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size_bytes", BigInteger, nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

# A registered model to replay. ``production`` rows are the production model's own ONNX, replayed
# for the noise floor (how well a replay reproduces the logged production predictions).
candidates = Table(
    "candidates", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model", String(128), ForeignKey("models.name", ondelete="CASCADE"), nullable=False),
    Column("name", String(128), nullable=False),
    Column("sha256", String(64), ForeignKey("shadow_artifacts.sha256"), nullable=False),
    Column("mapping", JsonDocument, nullable=False),  # shadow.mapping.InputMapping as JSON
    Column("outputs", JsonDocument, nullable=False),  # shadow.outputs.OutputSemantics as JSON
    Column("production", Boolean, nullable=False),
    Column("sample_rate", Float, nullable=False),  # share of stored predictions replayed (by id hash)
    Column("provider", String(64)),  # execution provider really in use at the last session start
    Column("created_at", UtcDateTime, nullable=False),
    Column("removed_at", UtcDateTime),
    # Names are never reused, even after removal: stored outputs keep meaning one artifact.
    UniqueConstraint("model", "name"),
)

shadow_outputs = Table(
    "shadow_outputs", metadata,
    Column("candidate_id", Integer, ForeignKey("candidates.id", ondelete="CASCADE"), nullable=False),
    Column("prediction_id", String(256), nullable=False),
    Column("time", UtcDateTime, nullable=False),  # the prediction's time: reports read ranges by it
    Column("label", Text),  # class label as text (classifiers)
    Column("score", Float),  # probability of the positive class (binary)
    Column("value", Float),  # regression output
    Column("error", Text),  # why this row has no output (encoding or inference failure)
    Column("batch_latency_ms", Float, nullable=False),  # wall time of the session run of its batch
    Column("batch_size", Integer, nullable=False),
    Column("provider", String(64), nullable=False),
    Column("replayed_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("candidate_id", "prediction_id"),
    Index("ix_shadow_outputs_candidate_id_time", "candidate_id", "time"),
)

# Where a replay stopped: the keyset position (time, prediction_id) of its last stored batch.
# run = "tail" for the continuous replay, "backtest:<from>/<to>" for a historical range.
shadow_progress = Table(
    "shadow_progress", metadata,
    Column("candidate_id", Integer, ForeignKey("candidates.id", ondelete="CASCADE"), nullable=False),
    Column("run", String(128), nullable=False),
    Column("range_start", UtcDateTime),
    Column("range_end", UtcDateTime),
    Column("cursor_time", UtcDateTime),
    Column("cursor_id", String(256)),
    Column("rows_done", BigInteger, nullable=False),
    Column("batches_done", BigInteger, nullable=False),
    Column("provider", String(64)),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime),
    PrimaryKeyConstraint("candidate_id", "run"),
)
