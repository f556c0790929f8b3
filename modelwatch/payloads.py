"""Turning buffered calls into wire records (docs/protocol.md): pure functions, run by the worker.

The serving path only stores a tuple per call; everything costly (copying into JSON-safe values,
mapping NaN and infinities to null, redaction, encoding) happens here, on the background thread.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from modelwatch.redact import RedactionPolicy, redact_record, redact_text
from modelwatch.redact_ids import redact_prediction_id

__all__ = [
    "LabelItem",
    "PredictionItem",
    "EncodeStats",
    "clean_json",
    "encode_batch",
    "encode_items",
    "encode_json",
    "encode_records",
    "epoch_seconds",
    "error_text",
    "feature_time",
    "label_record",
    "prediction_record",
    "wire_id",
    ]

MAX_ID_LENGTH = 256
MAX_ERROR_LENGTH = 2000  # the collector keeps no more; cut after redaction, never before

# What log_prediction buffers: a plain tuple is the cheapest thing to build on the serving path.
# (prediction_id, epoch seconds, features, prediction, score, probabilities, latency_ms, error, slices,
#  feature timestamp as given: converted on the background thread, see feature_time)
PredictionItem = tuple[str, Any, Any, Any, Any, Any, Any, Any, Any, Any]
# (prediction_id, label, epoch seconds)
LabelItem = tuple[str, Any, Any]


@dataclass
class EncodeStats:
    """What cleaning found: infinities mapped to null (reported as drop reason ``non_finite``),
    and feature timestamps left out because they were not times (``invalid_feature_time``)."""

    non_finite: int = 0
    invalid_feature_time: int = 0


def epoch_seconds(timestamp: Any) -> float:
    """Return a timestamp as Unix epoch seconds.

    Accepts epoch seconds, a datetime (naive taken as UTC) or an RFC 3339 / ISO 8601 string.
    Raises TypeError for another type and ValueError for an unparsable string.
    """
    if isinstance(timestamp, (int, float)) and not isinstance(timestamp, bool):
        seconds = float(timestamp)
        if not math.isfinite(seconds):
            raise ValueError(f"timestamp must be finite, got {seconds}")
        return seconds
    if isinstance(timestamp, str):
        timestamp = dt.datetime.fromisoformat(timestamp)
    if isinstance(timestamp, dt.datetime):
        if timestamp.tzinfo is None:
            timestamp = timestamp.replace(tzinfo=dt.timezone.utc)
        return float(timestamp.timestamp())
    raise TypeError(f"timestamp must be epoch seconds, a datetime or an RFC 3339 string, not {type(timestamp).__name__}")


def feature_time(value: Any) -> float | dict[str, float]:
    """Return the wire form of a feature timestamp (docs/freshness.md): epoch seconds for one
    timestamp, or feature name -> epoch seconds for a mapping (``None`` values left out).

    Raises TypeError / ValueError (as ``epoch_seconds``) for a value that is not a time.
    """
    if isinstance(value, Mapping):
        return {str(name): epoch_seconds(t) for name, t in value.items() if t is not None}
    return epoch_seconds(value)


def _clean_feature_time(value: Any, stats: EncodeStats) -> float | dict[str, float] | None:
    """``feature_time`` without the values that are not times, each counted in ``stats``."""
    if not isinstance(value, Mapping):
        try:
            return epoch_seconds(value)
        except (TypeError, ValueError):
            stats.invalid_feature_time += 1
            return None
    out: dict[str, float] = {}
    for name, t in value.items():
        if t is None:
            continue
        try:
            out[str(name)] = epoch_seconds(t)
        except (TypeError, ValueError):
            stats.invalid_feature_time += 1
    return out or None


def error_text(error: Any) -> str:
    """Return the error text sent for a failed call: ``"Type: message"`` for an exception."""
    if isinstance(error, BaseException):
        message = str(error)
        return f"{type(error).__name__}: {message}" if message else type(error).__name__
    return error if isinstance(error, str) else str(error)


def clean_json(value: Any, stats: EncodeStats) -> Any:
    """Return ``value`` as JSON-safe plain data: NaN and +-inf become None (infinities counted),
    numpy-like scalars/arrays become Python numbers/lists, dates become ISO strings, Decimal a
    float, other unknown objects their ``str``."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is float or isinstance(value, float):
        if value != value:
            return None
        if value in (math.inf, -math.inf):
            stats.non_finite += 1
            return None
        return float(value)
    if isinstance(value, Mapping):
        return {str(k): clean_json(v, stats) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [clean_json(v, stats) for v in value]
    if isinstance(value, int):  # int subclasses (IntEnum, numpy ints are not)
        return int(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return clean_json(float(value), stats)
    for method in ("tolist", "item"):  # numpy / pandas scalars and arrays, without importing them
        convert = getattr(value, method, None)
        if callable(convert):
            try:
                converted = convert()
            except (TypeError, ValueError):
                continue
            if converted is not value:
                return clean_json(converted, stats)
    return str(value)


def _clean_slices(slices: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k): (None if v is None else v if isinstance(v, str) else str(v)) for k, v in slices.items()}


def prediction_record(
    item: PredictionItem, weight: float | None, policy: RedactionPolicy | None, stats: EncodeStats | None = None
) -> dict[str, Any]:
    """Return the ``/v1/predictions`` record for one buffered call, redacted.

    With ``stats`` every value is first made JSON-safe by ``clean_json`` (counting infinities);
    without, values are taken as they are: the fast path, for batches that ``encode_json``
    accepts as they are (it refuses NaN, infinities and unknown types, and then the batch is
    rebuilt with ``stats``; there a feature timestamp that is not a time is left out and counted).
    Raises ValueError when the prediction id is empty or longer than 256 characters, or when
    features is not a mapping.
    """
    prediction_id, timestamp, features, prediction, score, probabilities, latency_ms, error, slices, fresh = item
    prediction_id = wire_id(prediction_id, policy)
    if features is None:
        features = {}
    elif stats is not None:
        features = clean_json(features, stats)
    if not isinstance(features, dict):
        raise ValueError(f"features must be a mapping, got {type(features).__name__}")
    if policy is not None:
        features = redact_record(features, policy)
    if stats is not None:
        prediction = clean_json(prediction, stats)
    record: dict[str, Any] = {
        "prediction_id": prediction_id,
        "timestamp": timestamp,
        "features": features,
        "prediction": prediction,
    }
    if score is not None:
        record["score"] = score if stats is None else clean_json(score, stats)
    if probabilities is not None:
        record["probabilities"] = probabilities if stats is None else clean_json(probabilities, stats)
    if latency_ms is not None:
        record["latency_ms"] = latency_ms if stats is None else clean_json(latency_ms, stats)
    if error is not None:
        error = redact_text(error, policy.detectors) if policy is not None else error
        record["error"] = error[:MAX_ERROR_LENGTH]
    if slices:
        cleaned = _clean_slices(slices)
        record["slices"] = redact_record(cleaned, policy) if policy is not None else cleaned
    if weight is not None and weight != 1.0:
        record["weight"] = weight
    if fresh is not None:
        # As it is: a bad value raises, and encode_items rebuilds the record with stats.
        fresh = feature_time(fresh) if stats is None else _clean_feature_time(fresh, stats)
        if fresh is not None and fresh != {}:
            record["feature_time"] = fresh
    return record


def wire_id(prediction_id: str, policy: RedactionPolicy | None) -> str:
    """Return the prediction id as sent: redacted under ``policy`` (``redact_prediction_id``),
    the same for a prediction and its labels so they join. An id to hash while the SDK has no
    key goes as it is, for the collector (which holds the key) to hash.

    Raises ValueError when the id is empty or longer than 256 characters.
    """
    if not prediction_id or len(prediction_id) > MAX_ID_LENGTH:
        raise ValueError(f"prediction_id must have 1..{MAX_ID_LENGTH} characters, got {len(prediction_id)}")
    if policy is None:
        return prediction_id
    return redact_prediction_id(prediction_id, policy) or prediction_id


def label_record(item: LabelItem, stats: EncodeStats | None = None,
                 policy: RedactionPolicy | None = None) -> dict[str, Any]:
    """Return the ``/v1/labels`` record for one buffered label (label cleaned when ``stats``
    given; its prediction id redacted as its prediction's was, see ``wire_id``).

    Raises ValueError when the prediction id is empty or longer than 256 characters.
    """
    prediction_id, label, timestamp = item
    prediction_id = wire_id(prediction_id, policy)
    return {"prediction_id": prediction_id, "label": label if stats is None else clean_json(label, stats), "timestamp": timestamp}


# check_circular=False: records are built here from plain values; a caller's self-referencing
# dict still fails (RecursionError), only without the per-container bookkeeping.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False, check_circular=False)
ENCODE_ERRORS = (TypeError, ValueError, RecursionError)


def encode_records(records: list[Any]) -> bytes:
    """Return records as compact JSON objects separated by commas (the inside of a JSON array),
    UTF-8, in one encoder call. Raises ValueError on NaN/inf or text that is not valid Unicode
    (a lone surrogate), TypeError on values JSON cannot represent, RecursionError on a cycle."""
    return _ENCODER.encode(records)[1:-1].encode("utf-8")


# Records per json call: one call per record spends ~20% of the encoding in per-call setup, and
# a chunk this size holds the GIL well under a millisecond (the switch interval is 5 ms).
ENCODE_CHUNK = 64


def encode_items(items: list[Any], build: Callable[[Any, EncodeStats | None], Any], stats: EncodeStats,
                 on_invalid: Callable[[Exception], None]) -> tuple[list[bytes], int]:
    """Encode buffered items as ``encode_records`` pieces; return them and how many records
    they hold. ``build(item, None)`` makes a record as it is, ``build(item, stats)`` a cleaned
    one; an item that cannot be encoded even cleaned goes to ``on_invalid`` and is left out.

    Fast path: ENCODE_CHUNK records in one call. JSON refuses NaN, infinities, unknown types and
    invalid text; then records go one by one (only a refused one is rebuilt cleaned) until
    ENCODE_CHUNK in a row went through, so data where NaN is common costs what one call per
    record costs.
    """
    pieces: list[bytes] = []
    count = 0
    start = 0
    clean_run = ENCODE_CHUNK  # records encoded as they are since the last refusal
    while start < len(items):
        if clean_run >= ENCODE_CHUNK:
            chunk = items[start:start + ENCODE_CHUNK]
            try:
                pieces.append(encode_records([build(item, None) for item in chunk]))
                count += len(chunk)
                start += len(chunk)
                continue
            except ENCODE_ERRORS:
                clean_run = 0
        item = items[start]
        start += 1
        try:
            try:
                pieces.append(encode_records([build(item, None)]))
                clean_run += 1
            except ENCODE_ERRORS:
                clean_run = 0
                pieces.append(encode_records([build(item, stats)]))
            count += 1
        except Exception as exc:  # bad data loses its own record, never the batch
            on_invalid(exc)
    return pieces, count


def encode_batch(envelope: Mapping[str, Any], encoded_records: list[bytes]) -> bytes:
    """Return the request body ``{**envelope, "records": [...]}`` from pieces of
    ``encode_records`` output."""
    head = _ENCODER.encode(dict(envelope)).encode("utf-8")
    return b"".join((head[:-1], b',"records":[', b",".join(encoded_records), b"]}"))


def encode_json(payload: Any) -> bytes:
    """Return compact UTF-8 JSON for already-cleaned ``payload``; raises ValueError on NaN/inf."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")
