"""Rows as the collector hands them to the store: already validated and redacted."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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
    feature_lag_s: float | None = None  # feature freshness: the stalest feature's age, seconds
    feature_lags: dict[str, float] | None = None  # per feature, when per-feature times were sent


@dataclass(frozen=True, slots=True)
class PredictionColumns:
    """A batch of predictions as parallel columns, one list per ``predictions`` column, all of
    the same length: the shape COPY consumes, so the collector builds it without a per-row object.

    ``features`` holds JSON objects: dicts, msgspec Structs (stored as msgspec encodes them, with
    their field renames; a field set to ``msgspec.UNSET`` is left out) or JSON text as bytes.
    ``feature_lag_s`` / ``feature_lags`` (FRESHNESS_FIELDS) are None for a batch in which no
    row carries a feature time: then those columns are not written at all (they stay NULL).
    """

    time: list[datetime]
    model: list[str]
    version: list[str]
    prediction_id: list[str]
    features: list[Any]
    prediction: list[str | None]
    prediction_value: list[float | None]
    score: list[float | None]
    probabilities: list[dict[str, float] | None]
    latency_ms: list[float | None]
    error: list[str | None]
    slices: list[dict[str, str | None] | None]
    weight: list[float]
    feature_lag_s: list[float | None] | None = None
    feature_lags: list[dict[str, float] | None] | None = None

    def __len__(self) -> int:
        return len(self.prediction_id)

    @property
    def has_freshness(self) -> bool:
        """Whether the freshness columns are to be written."""
        return self.feature_lag_s is not None

    @classmethod
    def from_rows(cls, rows: Sequence[PredictionRow]) -> PredictionColumns:
        """The same predictions, column by column."""
        columns = [[getattr(r, name) for r in rows] for name in PREDICTION_FIELDS]
        if any(r.feature_lag_s is not None for r in rows):
            columns += [[getattr(r, name) for r in rows] for name in FRESHNESS_FIELDS]
        return cls(*columns)


# Column order of PredictionColumns (and of PredictionRow's fields).
PREDICTION_FIELDS: tuple[str, ...] = (
    "time", "model", "version", "prediction_id", "features", "prediction", "prediction_value",
    "score", "probabilities", "latency_ms", "error", "slices", "weight",
)
# Optional columns after them, present only when some row has a feature time.
FRESHNESS_FIELDS: tuple[str, ...] = ("feature_lag_s", "feature_lags")


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
