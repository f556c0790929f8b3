"""Tables of the analysis scheduler (issue 3): window claims and the late-label watermark.
They join store.schema.metadata.

``analysis_windows`` has one row per (model, window). A scheduler owns a window by inserting
its row (the primary key lets one INSERT win) or, for a window whose earlier claim expired,
failed or whose labels changed, by a conditional UPDATE that only one writer can satisfy. The
lease makes a crashed scheduler's claim expire; the owner column fences a scheduler whose lease
ran out: its results commit only while it still owns the row (store/claims.py).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Index, Integer, PrimaryKeyConstraint, String, Table, Text

from store.schema import labels, metadata
from store.types import UtcDateTime

analysis_windows = Table(
    "analysis_windows", metadata,
    Column("model", String(128), nullable=False),
    Column("window_start", UtcDateTime, nullable=False),
    Column("window_end", UtcDateTime, nullable=False),
    Column("status", String(16), nullable=False),  # running | done | failed
    Column("owner", String(128)),  # the scheduler (host:pid:nonce) that holds or last held it
    Column("lease_until", UtcDateTime),  # running: claim expires; failed: no retry before
    Column("attempts", Integer, nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime),
    Column("n_rows", BigInteger),  # predictions read at the last run
    Column("weight", Float),  # their summed weights (estimated traffic): the volume baseline
    Column("n_labels", BigInteger),  # predictions with a label at the last performance run
    # Labels received up to here were visible to the last performance run; a label received
    # later sends the window back for a performance rerun.
    Column("labels_checked_at", UtcDateTime),
    Column("error", Text),  # exception type and message of the last failure (never data)
    PrimaryKeyConstraint("model", "window_start", "window_end"),
    Index("ix_analysis_windows_status", "status", "lease_until"),
)

# Per model: labels received up to this time have been checked for late-label reruns.
analysis_label_scans = Table(
    "analysis_label_scans", metadata,
    Column("model", String(128), nullable=False),
    Column("scanned_until", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("model"),
)

# The late-label scan reads the labels received since its watermark, per model, every cycle:
# without this index that is a scan of all the model's labels.
Index("ix_labels_model_received_at", labels.c.model, labels.c.received_at)
