"""Tables of SLOs and alerting (issue 4): SLO status, SLI rollups, alerts, groups, the
notification outbox with its delivery log, and silences. They join store.schema.metadata.

The outbox is the only way a notification leaves: the alert cycle inserts a row in the same
transaction that changes alert and group state, and the delivery worker drains it. The unique
key ``(dedup_key, sequence)`` makes enqueueing the same message of a group twice impossible,
even for two schedulers that raced past the cycle lock.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger, Boolean, Column, Float, ForeignKey, Index, Integer, PrimaryKeyConstraint, String, Table, Text,
    UniqueConstraint,
)

from store.schema import metadata
from store.types import JsonDocument, UtcDateTime

_ID = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements INTEGER keys only

# Latest evaluation per SLO: what /metrics, the dashboard and `modelwatch` read.
slo_status = Table(
    "slo_status", metadata,
    Column("model", String(128), nullable=False),
    Column("slo", String(128), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("objective", Float, nullable=False),
    Column("state", String(32), nullable=False),  # ok | firing | no_data | low_traffic | insufficient_labels
    Column("sli", Float),  # good ratio over the SLO window so far; NULL without data
    Column("events_total", Float, nullable=False),
    Column("events_bad", Float, nullable=False),
    Column("budget_remaining", Float),
    Column("current_burn", Float),
    Column("time_to_exhaustion_s", Float),  # NULL: not being spent
    Column("label_coverage", Float),  # quality: labelled / predictions over the shortest window
    Column("burn_rates", JsonDocument, nullable=False),  # {"5m": 0.0, "1h": 1.2, ...}
    Column("rules", JsonDocument, nullable=False),  # per rule: name, severity, threshold, state, burns
    Column("firing_severities", String(256), nullable=False),  # comma separated
    Column("window_end", UtcDateTime, nullable=False),  # minutes before it were read (windows end evaluation_delay earlier)
    Column("evaluated_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("model", "slo"),
)

# One row per SLO and hour (the hour's last evaluation wins): the budget burndown.
slo_status_history = Table(
    "slo_status_history", metadata,
    Column("model", String(128), nullable=False),
    Column("slo", String(128), nullable=False),
    Column("hour", UtcDateTime, nullable=False),
    Column("state", String(32), nullable=False),
    Column("sli", Float),
    Column("budget_remaining", Float),
    Column("current_burn", Float),
    Column("events_total", Float, nullable=False),
    Column("events_bad", Float, nullable=False),
    Column("evaluated_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("model", "slo", "hour"),
)

# Hourly SLI counts of counter-based SLOs (availability, latency) for hours older than the
# minute-resolution horizon, with running sums since the rollup started, so a cycle reads the
# 30-day window as a few point lookups (a ring's sum is a difference of two running sums).
sli_hourly = Table(
    "sli_hourly", metadata,
    Column("model", String(128), nullable=False),
    Column("slo", String(128), nullable=False),
    Column("hour", UtcDateTime, nullable=False),
    Column("total", Float, nullable=False),
    Column("bad", Float, nullable=False),
    Column("cum_total", Float, nullable=False),  # sum of total over this hour and every earlier one
    Column("cum_bad", Float, nullable=False),
    PrimaryKeyConstraint("model", "slo", "hour"),
)

# How far sli_hourly is filled per SLO (with the running sums there), and for which counting
# rule: a changed threshold restarts it.
sli_rollups = Table(
    "sli_rollups", metadata,
    Column("model", String(128), nullable=False),
    Column("slo", String(128), nullable=False),
    Column("spec_key", String(64), nullable=False),
    Column("rolled_until", UtcDateTime, nullable=False),  # exclusive: hours before it are stored
    Column("cum_total", Float, nullable=False),
    Column("cum_bad", Float, nullable=False),
    PrimaryKeyConstraint("model", "slo"),
)

# Alert state per fingerprint (alerts.state.AlertRecord plus identity and why it is muted).
alerts = Table(
    "alerts", metadata,
    Column("fingerprint", String(16), primary_key=True),
    Column("alertname", String(128), nullable=False),
    Column("model", String(128), nullable=False),
    Column("source", String(16), nullable=False),  # slo | analysis
    Column("labels", JsonDocument, nullable=False),
    Column("annotations", JsonDocument, nullable=False),
    Column("state", String(16), nullable=False),  # inactive | pending | firing | resolved
    Column("active_since", UtcDateTime),
    Column("fired_at", UtcDateTime),
    Column("resolved_at", UtcDateTime),
    Column("last_evaluated_at", UtcDateTime, nullable=False),
    Column("silenced_by", JsonDocument),  # silence ids matching at the last evaluation
    Column("inhibited", Boolean, nullable=False),
    Index("ix_alerts_model_state", "model", "state"),
)

# Aggregation groups: timers and the notification log (alerts.grouping) per route and group labels.
alert_groups = Table(
    "alert_groups", metadata,
    Column("group_key", String(1024), primary_key=True),
    Column("receiver", String(128), nullable=False),
    Column("labels", JsonDocument, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_flush_at", UtcDateTime),
    Column("log_firing", JsonDocument),  # fingerprints in the last notification (NULL: none sent)
    Column("log_resolved", JsonDocument),
    Column("log_sent_at", UtcDateTime),
    Column("sequence", Integer, nullable=False),  # notifications enqueued for this group, ever
    Column("closed_at", UtcDateTime),  # nothing firing any more; a new alert reopens it afresh
)

# The transactional outbox and delivery log: one row per message to one receiver.
notifications = Table(
    "notifications", metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("notification_id", String(32), nullable=False),  # alerts.notification.Notification.id
    Column("receiver", String(128), nullable=False),
    Column("group_key", String(1024), nullable=False),
    Column("dedup_key", String(64), nullable=False),  # PagerDuty dedup_key: same for trigger and resolve
    Column("sequence", Integer, nullable=False),
    Column("kind", String(16), nullable=False),  # firing | resolved
    Column("payload", JsonDocument, nullable=False),  # the Notification (no secrets: read at send time)
    Column("status", String(16), nullable=False),  # pending | sent | failed
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("lease_owner", String(64)),  # the worker sending it now
    Column("lease_until", UtcDateTime),
    Column("first_attempt_at", UtcDateTime),
    Column("last_status", Integer),  # HTTP status or SMTP code of the last attempt
    Column("last_error", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime),
    UniqueConstraint("dedup_key", "sequence", name="uq_notifications_dedup_key_sequence"),
    Index("ix_notifications_status_next_attempt_at", "status", "next_attempt_at"),
)

# Every send attempt, for the delivery log (status, error, timing).
delivery_attempts = Table(
    "delivery_attempts", metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("notification", _ID, ForeignKey("notifications.id", ondelete="CASCADE"), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("status", Integer),
    Column("error", Text),
    Column("duration_ms", Float, nullable=False),
    Column("worker", String(64), nullable=False),
    Index("ix_delivery_attempts_notification", "notification"),
)

silences = Table(
    "silences", metadata,
    Column("id", String(36), primary_key=True),
    Column("matchers", JsonDocument, nullable=False),  # ['model="m"', 'severity=~"page|ticket"']
    Column("author", String(128), nullable=False),
    Column("comment", Text, nullable=False),
    Column("starts_at", UtcDateTime, nullable=False),
    Column("ends_at", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expired_at", UtcDateTime),  # set when expired early (ends_at moved to it)
    Index("ix_silences_ends_at", "ends_at"),
)
