"""Feature freshness of one prediction: lag = prediction time - feature time, in seconds (pure).

A record's ``feature_time`` is one time for all its features, or a mapping feature name -> time
(docs/freshness.md). The stored ``feature_lag_s`` is the stalest lag (the largest), and
``feature_lags`` the lag per feature when per-feature times were sent.

A feature time after the prediction time is clock skew between the machine that stamped the
features and the one that stamped the prediction: up to ``CLOCK_SKEW_S`` it counts as lag 0
(fresh); beyond that the record is refused naming the field, like any other impossible value,
because a clamped lag would hide a broken clock or a wrong time zone behind "perfectly fresh".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from msgspec.structs import astuple

__all__ = ["CLOCK_SKEW_S", "EARLIEST_S", "FIELD", "Freshness", "feature_freshness", "freshness_columns"]

FIELD = "feature_time"
CLOCK_SKEW_S = 60.0
EARLIEST_S = 946_684_800.0  # 2000-01-01T00:00:00Z, as for the prediction timestamp


@dataclass(frozen=True, slots=True)
class Freshness:
    """The lags of one prediction: the stalest, and per feature (None for one shared time)."""

    stalest_s: float
    per_feature: dict[str, float] | None = None


def _seconds(value: float | datetime) -> float:
    return value if value.__class__ is float else value.timestamp()  # type: ignore[union-attr]


def _lag(value: float | datetime, prediction_s: float, field: str) -> float | tuple[str, str]:
    """The lag behind ``prediction_s``, or (field, why it is refused)."""
    seconds = _seconds(value)
    if seconds < EARLIEST_S:
        return field, f"feature time {seconds:.6f} is before 2000"
    lag = prediction_s - seconds
    if lag >= 0.0:
        return round(lag, 6)  # microseconds: what the stored times carry
    if lag >= -CLOCK_SKEW_S:
        return 0.0
    return field, (f"feature time {seconds:.6f} is {-lag:g} s after the prediction time "
                   f"(more than the {CLOCK_SKEW_S:g} s of clock skew allowed)")


def feature_freshness(value: Any, prediction_s: float, names: tuple[str, ...]) -> Freshness | tuple[str, str] | None:
    """The lags of a decoded ``feature_time`` for a prediction at ``prediction_s`` (epoch
    seconds): a Freshness, None when the mapping holds no time, or (field, error) for a refused
    value. ``names`` are the model's feature names in the order of the decoded mapping's fields
    (collector.codecs)."""
    if value.__class__ is float or isinstance(value, datetime):
        lag = _lag(value, prediction_s, FIELD)
        return lag if lag.__class__ is tuple else Freshness(lag)  # type: ignore[arg-type,return-value]
    per_feature: dict[str, float] = {}
    for name, given in zip(names, astuple(value)):
        if given is None:
            continue
        lag = _lag(given, prediction_s, f"{FIELD}.{name}")
        if lag.__class__ is tuple:
            return lag  # type: ignore[return-value]
        per_feature[name] = lag  # type: ignore[assignment]
    if not per_feature:
        return None
    return Freshness(max(per_feature.values()), per_feature)


def freshness_columns(found: list[tuple[int, Freshness]], n: int) -> dict[str, list[Any]]:
    """The ``feature_lag_s`` / ``feature_lags`` columns of a batch of ``n`` rows from the
    (row, Freshness) pairs found; none at all when no row sent a feature time, so such
    batches store exactly what they stored before (store.records.PredictionColumns)."""
    if not found:
        return {}
    stalest: list[float | None] = [None] * n
    per_feature: list[dict[str, float] | None] = [None] * n
    for row, fresh in found:
        stalest[row] = fresh.stalest_s
        per_feature[row] = fresh.per_feature
    return {"feature_lag_s": stalest, "feature_lags": per_feature}
