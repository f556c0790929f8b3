"""The collector's side of feature freshness without a server: decoding ``feature_time`` with the
model's codec, the lags (pure), and the rows refused (docs/freshness.md)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import msgspec
import pytest

from collector.codecs import build_codec
from collector.decode import convert_objects, decode_records
from collector.freshness import CLOCK_SKEW_S, Freshness, feature_freshness
from collector.validate import TimeBounds, prediction_columns
from config.loader import parse_monitors

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)
T = NOW.timestamp() - 600.25  # prediction time of the records below
MODEL = parse_monitors({"version": 1, "models": [{
    "name": "m", "task": "binary", "positive_class": "1",
    "features": [{"name": "amount", "type": "numeric"}, {"name": "country", "type": "categorical"},
                 {"name": "user.age-days", "type": "numeric"}],
}]}).models[0]
CODEC = build_codec(MODEL, "freshness_test", None)
NAMES = CODEC.feature_names


def record(i: int, **extra: Any) -> dict[str, Any]:
    return {"prediction_id": f"p{i}", "timestamp": T, "features": {"amount": 1.0, "country": "DE"},
            "prediction": "1", **extra}


def columns(records: list[dict[str, Any]]) -> tuple[Any, list[Any]]:
    decoded = decode_records(msgspec.json.encode(records), CODEC.predictions, CODEC.prediction, 1000)
    batch, _ = prediction_columns(CODEC, decoded, "v1", TimeBounds.at(NOW))
    return batch, sorted((p.row, p.field, p.error) for p in decoded.problems)


def test_lags_of_one_time_and_of_per_feature_times() -> None:
    batch, problems = columns([
        record(0, feature_time=T - 1.5),
        record(1, feature_time={"amount": T - 30.25, "user.age-days": T - 86400.0, "country": None}),
        record(2),  # no feature time in the same batch: NULL lags
        record(3, feature_time="2026-03-02T11:49:58.25+00:00"),  # RFC 3339: T - 1.5 s
        record(4, feature_time={"country": None}),  # no time at all: as if none was sent
    ])
    assert problems == []
    assert batch.feature_lag_s == [1.5, 86400.0, None, 1.5, None]
    assert batch.feature_lags == [None, {"amount": 30.25, "user.age-days": 86400.0}, None, None, None]


def test_a_batch_without_feature_times_writes_no_freshness_columns() -> None:
    batch, problems = columns([record(0), record(1)])
    assert problems == [] and not batch.has_freshness and batch.feature_lag_s is None


def test_bad_feature_times_reject_their_row_naming_the_field() -> None:
    future = T + CLOCK_SKEW_S + 3600
    batch, problems = columns([
        record(0, feature_time="yesterday"),
        record(1, feature_time=True),
        record(2, feature_time={"amount": "soon"}),
        record(3, feature_time={"price": T - 1}),  # not a feature of the model
        record(4, feature_time=future),
        record(5, feature_time={"amount": T - 1, "country": future}),
        record(6, feature_time=100.0),  # 1970: a unit mistake, not a time
        record(7, feature_time="2026-03-02T11:00:00"),  # no offset: ambiguous
        record(8, feature_time=T - 5),
    ])
    assert batch.prediction_id == ["p8"] and batch.feature_lag_s == [5.0]
    by_row = {row: (field, error) for row, field, error in problems}
    assert by_row[0] == ("feature_time", "Invalid RFC3339 encoded datetime")
    assert by_row[1][0] == "feature_time" and "got `bool`" in by_row[1][1]
    assert by_row[2] == ("feature_time.amount", "Invalid RFC3339 encoded datetime")
    assert by_row[3] == ("feature_time.price", "unknown field")
    assert by_row[4][0] == "feature_time" and "3660 s after the prediction time" in by_row[4][1]
    assert by_row[5][0] == "feature_time.country" and "more than the 60 s of clock skew" in by_row[5][1]
    assert by_row[6] == ("feature_time", "feature time 100.000000 is before 2000")
    assert by_row[7] == ("feature_time", "Expected `datetime` with a timezone component")
    assert set(by_row) == set(range(8))


def test_feature_lag_policy() -> None:
    assert feature_freshness(T - 10.0, T, NAMES) == Freshness(10.0)
    # Within the clock skew a feature time after the prediction is fresh (lag 0), not refused.
    assert feature_freshness(T + CLOCK_SKEW_S, T, NAMES) == Freshness(0.0)
    assert feature_freshness(T + CLOCK_SKEW_S + 0.5, T, NAMES)[0] == "feature_time"  # type: ignore[index]
    assert feature_freshness(NOW - timedelta(hours=2), NOW.timestamp(), NAMES) == Freshness(7200.0)
    # Lags keep microseconds, like the stored times, and no float noise below them.
    assert feature_freshness(T - 0.1234567, T, NAMES) == Freshness(0.123457)


@pytest.mark.parametrize("body", [b'{"feature_time": NaN}', b'{"feature_time": {"amount": NaN}}'])
def test_nan_from_a_lenient_json_writer_means_no_time(body: bytes) -> None:
    # The NaN-tolerant slow path turns NaN into null: no feature time, the row is kept.
    document = {**record(0), **json.loads(body)}
    decoded = convert_objects([document], CODEC.prediction_type, 10)
    batch, _ = prediction_columns(CODEC, decoded, "v1", TimeBounds.at(NOW))
    assert decoded.problems == [] and batch.prediction_id == ["p0"] and not batch.has_freshness
