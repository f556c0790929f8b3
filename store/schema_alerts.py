"""Tables of SLOs and alerting (issue 4): SLO status, alerts, outbox, silences. They join store.schema.metadata."""

from __future__ import annotations

from store.schema import metadata  # noqa: F401  (tables defined here register on it)
