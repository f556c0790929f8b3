"""Tables of the analysis scheduler (issue 3): window claims and runs. They join store.schema.metadata."""

from __future__ import annotations

from store.schema import metadata  # noqa: F401  (tables defined here register on it)
