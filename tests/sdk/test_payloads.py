from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pytest

from modelwatch.payloads import EncodeStats, clean_json, encode_json, epoch_seconds, error_text, prediction_record
from modelwatch.redact import RedactionPolicy
from modelwatch.worker import plan_export


def test_nan_and_infinities_become_null_and_infinities_are_counted() -> None:
    stats = EncodeStats()
    value = {"a": math.nan, "b": math.inf, "c": [-math.inf, 1.5], "d": {"e": math.nan}}
    assert clean_json(value, stats) == {"a": None, "b": None, "c": [None, 1.5], "d": {"e": None}}
    assert stats.non_finite == 2
    encode_json(clean_json(value, stats))  # strict JSON: would raise on NaN


def test_foreign_types_become_plain_json() -> None:
    class FakeNumpyScalar:
        def item(self) -> float:
            return float("nan")

    class FakeArray:
        def tolist(self) -> list[float]:
            return [1.0, float("inf")]

    stats = EncodeStats()
    out = clean_json(
        {"s": FakeNumpyScalar(), "arr": FakeArray(), "day": dt.date(2026, 1, 2), "dec": Decimal("1.25"), "set": {3}, "obj": object},
        stats,
    )
    assert out["s"] is None and out["arr"] == [1.0, None] and stats.non_finite == 1
    assert out["day"] == "2026-01-02" and out["dec"] == 1.25 and out["set"] == [3]
    assert out["obj"] == str(object)


def test_prediction_record_shape_and_redaction() -> None:
    policy = RedactionPolicy(fields={"email": "drop", "tier": "mask"})
    item = ("req-1", 1764072000.25, {"amount": 12.5, "email": "a@b.de", "note": "mail c@d.org"}, "1", 0.91,
            {"0": 0.09, "1": 0.91}, 3.2, "ValueError: bad card 4111 1111 1111 1111", {"tier": "gold", "channel": 7}, None)
    stats = EncodeStats()
    record = prediction_record(item, 10.0, policy, stats)
    assert record == {
        "prediction_id": "req-1",
        "timestamp": 1764072000.25,
        "features": {"amount": 12.5, "note": "mail [EMAIL]"},
        "prediction": "1",
        "score": 0.91,
        "probabilities": {"0": 0.09, "1": 0.91},
        "latency_ms": 3.2,
        "error": "ValueError: bad card [CARD]",
        "slices": {"tier": "[MASKED]", "channel": "7"},
        "weight": 10.0,
    }


def test_prediction_record_minimal_and_invalid_ids() -> None:
    record = prediction_record(("x", 1.0, None, 0.5, None, None, None, None, None, None), 1.0, None, EncodeStats())
    assert record == {"prediction_id": "x", "timestamp": 1.0, "features": {}, "prediction": 0.5}
    for bad in ("", "x" * 257):
        with pytest.raises(ValueError, match="prediction_id"):
            prediction_record((bad, 1.0, None, 0, None, None, None, None, None, None), 1.0, None, EncodeStats())


def test_epoch_seconds() -> None:
    assert epoch_seconds(5) == 5.0
    assert epoch_seconds(dt.datetime(2026, 11, 25, 12, tzinfo=dt.timezone.utc)) == 1795608000.0
    assert epoch_seconds(dt.datetime(2026, 11, 25, 12)) == 1795608000.0  # naive = UTC
    assert epoch_seconds("2026-11-25T12:00:00.5Z") == 1795608000.5
    for bad in ("yesterday", float("nan"), [1]):
        with pytest.raises((TypeError, ValueError)):
            epoch_seconds(bad)


def test_error_text() -> None:
    assert error_text(ValueError("bad")) == "ValueError: bad"
    assert error_text(TimeoutError()) == "TimeoutError"
    assert error_text("http 500") == "http 500"


@pytest.mark.parametrize(
    ("buffered", "now", "forced", "expected"),
    [(0, 0.0, False, 0), (499, 0.0, False, 0), (500, 0.0, False, 500), (1234, 0.0, False, 1000),
     (1234, 10.0, False, 1234), (3, 0.0, True, 3), (0, 10.0, False, 0)],
)
def test_plan_export(buffered: int, now: float, forced: bool, expected: int) -> None:
    assert plan_export(buffered, 500, now, timer_due_at=5.0, forced=forced) == expected


def test_error_text_is_redacted_then_cut_to_the_collector_limit() -> None:
    error = "x" * 1995 + " bob@example.com " + "y" * 100
    item = ("a", 1.0, None, 1, None, None, None, error, None, None)
    record = prediction_record(item, 1.0, RedactionPolicy(), EncodeStats())
    assert record["error"] == "x" * 1995 + " [EMA"  # redacted first: no part of the address survives
