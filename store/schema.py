"""The database schema, as SQLAlchemy Core tables.

Counts, not ratios, are stored (request counters are append-only deltas), so every long window
is traffic weighted by construction. Time-series tables (predictions, labels, request_counters)
carry their time column in every unique key, which is what TimescaleDB hypertables require.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger, Column, Float, ForeignKey, Index, Integer, MetaData, PrimaryKeyConstraint, String,
    Table, Text, UniqueConstraint,
)

from store.types import JsonDocument, JsonText, UtcDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    }
)

models = Table(
    "models", metadata,
    Column("name", String(128), primary_key=True),
    Column("task", String(16), nullable=False),
    Column("spec", JsonDocument, nullable=False),  # the validated monitors entry, as loaded
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

model_versions = Table(
    "model_versions", metadata,
    Column("model", String(128), ForeignKey("models.name", ondelete="CASCADE"), nullable=False),
    Column("version", String(128), nullable=False),
    Column("first_seen", UtcDateTime, nullable=False),
    Column("deployed_at", UtcDateTime),
    Column("artifact_sha256", String(64)),
    Column("note", Text),
    PrimaryKeyConstraint("model", "version"),
)

predictions = Table(
    "predictions", metadata,
    Column("time", UtcDateTime, nullable=False),
    Column("model", String(128), nullable=False),
    Column("version", String(128), nullable=False),
    Column("prediction_id", String(256), nullable=False),
    Column("features", JsonText, nullable=False),  # json, not jsonb: see store/types.py
    Column("prediction", Text),  # class label as text, or the regression value as text
    Column("prediction_value", Float),  # numeric prediction (regression), for SQL aggregation
    Column("score", Float),  # probability of the positive class (binary)
    Column("probabilities", JsonDocument),  # class -> probability (multiclass)
    Column("latency_ms", Float),
    Column("error", Text),
    Column("slices", JsonDocument),
    Column("weight", Float, nullable=False),  # 1 / sampling rate
    Column("received_at", UtcDateTime, nullable=False),
    # Feature freshness: age in seconds of the stalest feature at prediction time, and per
    # feature when the SDK sent per-feature timestamps. NULL when no feature time was sent.
    Column("feature_lag_s", Float),
    Column("feature_lags", JsonDocument),
    # Dedup on (model, prediction_id); time is part of the key for hypertables. The SDK stamps
    # a prediction once, so a retried batch carries the same time and is caught here.
    PrimaryKeyConstraint("model", "prediction_id", "time"),
    Index("ix_predictions_model_time", "model", "time"),
)

labels = Table(
    "labels", metadata,
    Column("time", UtcDateTime, nullable=False),
    Column("model", String(128), nullable=False),
    Column("prediction_id", String(256), nullable=False),
    Column("label", Text),
    Column("label_value", Float),
    Column("received_at", UtcDateTime, nullable=False),
    # A corrected label is a new row with a later time; readers take the latest per prediction.
    PrimaryKeyConstraint("model", "prediction_id", "time"),
    Index("ix_labels_model_time", "model", "time"),
)

request_counters = Table(
    "request_counters", metadata,
    Column("minute", UtcDateTime, nullable=False),
    Column("model", String(128), nullable=False),
    Column("version", String(128), nullable=False),
    Column("batch_id", String(64), nullable=False),
    Column("requests", BigInteger, nullable=False),
    Column("errors", BigInteger, nullable=False),
    Column("latency_count", BigInteger, nullable=False),
    Column("latency_sum_ms", Float, nullable=False),
    # Non-cumulative counts per bucket upper bound in ms: {"5": 10, "10": 3, "+Inf": 1}.
    Column("latency_buckets", JsonDocument, nullable=False),
    # Samples the SDK could not ship, by reason: {"buffer_full": 12}.
    Column("dropped", JsonDocument),
    # Deltas, appended; a retried batch has the same batch_id and is ignored.
    PrimaryKeyConstraint("model", "version", "minute", "batch_id"),
    # SLO cycles read the last hours of every model at once: a range scan, not the whole table.
    Index("ix_request_counters_minute", "minute"),
)

references = Table(
    "references", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model", String(128), ForeignKey("models.name", ondelete="CASCADE"), nullable=False),
    Column("name", String(128), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("n_rows", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("profile", JsonDocument),  # binned reference profile (issue 3 fills it)
    UniqueConstraint("model", "name"),
)

reference_rows = Table(
    "reference_rows", metadata,
    Column("reference_id", Integer, ForeignKey("references.id", ondelete="CASCADE"), nullable=False),
    Column("row", BigInteger, nullable=False),
    Column("features", JsonDocument, nullable=False),
    Column("prediction", Text),
    Column("score", Float),
    Column("label", Text),
    PrimaryKeyConstraint("reference_id", "row"),
)

api_tokens = Table(
    "api_tokens", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),  # first characters, to tell tokens apart in lists
    Column("scopes", String(64), nullable=False),  # comma separated: ingest,read,admin
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
)

audit_log = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("time", UtcDateTime, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(256)),
    Column("details", JsonDocument),
)

analysis_results = Table(
    "analysis_results", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("model", String(128), nullable=False),
    Column("version", String(128), nullable=False),  # "*" for all versions together
    Column("window_start", UtcDateTime, nullable=False),
    Column("window_end", UtcDateTime, nullable=False),
    Column("slice_key", String(128), nullable=False),  # "" for the whole model
    Column("slice_value", String(256), nullable=False),
    Column("kind", String(32), nullable=False),  # drift | quality | performance
    Column("metric", String(64), nullable=False),
    Column("feature", String(128), nullable=False),  # "" when not per feature
    Column("value", Float),
    Column("threshold", Float),
    Column("status", String(16), nullable=False),
    Column("n", BigInteger, nullable=False),
    Column("details", JsonDocument),
    Column("computed_at", UtcDateTime, nullable=False),
    # A rerun of a window replaces its results: this key makes it idempotent.
    UniqueConstraint("model", "version", "window_start", "window_end", "slice_key", "slice_value",
                     "kind", "metric", "feature", name="uq_analysis_results_window"),
)

TIME_SERIES_TABLES: dict[str, str] = {
    "predictions": "time",
    "labels": "time",
    "request_counters": "minute",
}

# Tables owned by later parts register on the same metadata (imported last: they import it).
from store import schema_alerts, schema_deploys, schema_scheduler, schema_shadow  # noqa: E402,F401
