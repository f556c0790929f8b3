"""Rows as the collector hands them to the store: already validated and redacted."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec


class PredictionRow(msgspec.Struct, kw_only=True):
    time: datetime
    model: str
    version: str
    prediction_id: str
    features: dict[str, Any]
    prediction: str | None = None
    prediction_value: float | None = None
    score: float | None = None
    probabilities: dict[str, float] | None = None
    latency_ms: float | None = None
    error: str | None = None
    slices: dict[str, str] | None = None
    weight: float = 1.0


class LabelRow(msgspec.Struct, kw_only=True):
    time: datetime
    model: str
    prediction_id: str
    label: str | None = None
    label_value: float | None = None


class CounterRow(msgspec.Struct, kw_only=True):
    minute: datetime
    model: str
    version: str
    batch_id: str
    requests: int
    errors: int
    latency_count: int
    latency_sum_ms: float
    latency_buckets: dict[str, int]
    dropped: dict[str, int] | None = None


class WriteResult(msgspec.Struct, frozen=True):
    inserted: int
    duplicates: int
