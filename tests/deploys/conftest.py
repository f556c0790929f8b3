"""Deploy tests: the collector fixtures of tests/collector (a real app on SQLite or PostgreSQL
with one token per scope) and a valid artifact digest."""

from __future__ import annotations

import hashlib

from tests.collector.conftest import any_collector, collector, start_collector  # noqa: F401 -- fixtures, shared

SHA = hashlib.sha256(b"fraud-detector 2.5.0 model.onnx").hexdigest()
