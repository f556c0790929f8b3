"""msgspec types for the wire protocol (docs/protocol.md) that do not depend on a model.

Per-model record types (whose ``features`` field lists the model's features) are built in
collector.codecs. Envelopes ignore unknown keys (transport metadata may grow); records forbid
them (a misspelled field must not vanish silently).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

import msgspec
from msgspec import Meta

ModelName = Annotated[str, Meta(min_length=1, max_length=128)]
PredictionId = Annotated[str, Meta(min_length=1, max_length=256)]
Version = Annotated[str, Meta(min_length=1, max_length=128)]
BatchId = Annotated[str, Meta(min_length=1, max_length=64)]
# RFC 3339 with an offset (decoded in C), or epoch seconds (converted per row).
Timestamp = Annotated[datetime, Meta(tz=True)] | float
Count = Annotated[int, Meta(ge=0)]
NonNegative = Annotated[float, Meta(ge=0)]
Bound = Annotated[float, Meta(gt=0)]

RecordsT = TypeVar("RecordsT")


class Envelope(msgspec.Struct, Generic[RecordsT]):
    """POST /v1/predictions and /v1/labels. ``records`` is msgspec.Raw on the fast path (decoded
    later with the model's record type) or a Python list on the NaN-tolerant slow path."""

    model: ModelName
    records: RecordsT
    version: Version | None = None
    batch_id: BatchId | None = None
    all_or_nothing: bool = False


class CounterEnvelope(msgspec.Struct, Generic[RecordsT]):
    """POST /v1/counters."""

    model: ModelName
    version: Version
    batch_id: BatchId
    bounds_ms: list[Bound]
    counters: RecordsT
    dropped: dict[str, Count] | None = None
    all_or_nothing: bool = False


class CounterRecord(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    minute: Timestamp
    requests: Count
    errors: Count = 0
    latency_count: Count = 0
    latency_sum_ms: NonNegative = 0.0
    latency_buckets: list[Count] = []


class Accepted(msgspec.Struct):
    """The 200 answer to an ingest request."""

    accepted: int
    duplicates: int
    rejected: list[dict[str, Any]]
