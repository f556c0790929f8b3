"""Columnar prediction batches (docs/protocol.md, "columns"): pure functions, run by the worker.

A records body spells every feature name and every float's repr once per row (~9 us a row with
the stdlib json for 20 float + 5 text features, bench/ingest_stages.py); a columnar body names
each feature once per batch and carries float columns as packed little-endian float64 in base64
(~3 us a row). It stands for exactly the records it was
built from: ``records_from_columns`` rebuilds them (for test doubles and tests).
"""

from __future__ import annotations

import base64
import itertools
import math
import sys
from array import array
from collections.abc import Mapping, Sequence
from typing import Any

from modelwatch.columnar_redact import (
    redact_error_column,
    redact_feature_column,
    redact_id_column,
    redact_slices_column,
)
from modelwatch.payloads import (
    _ENCODER,
    MAX_ERROR_LENGTH,
    MAX_ID_LENGTH,
    EncodeStats,
    PredictionItem,
    _clean_slices,
    clean_json,
)
from modelwatch.redact import RedactionPolicy

__all__ = ["PACKED", "assemble_records", "column_values", "columns_body", "feature_names", "payload_records", "records_from_columns"]

PACKED = "f8"  # {"f8": "<base64 of n float64>"}: NaN means null
_NONE = type(None)
_NAN = math.nan
_INFINITIES = (math.inf, -math.inf)
# Types clean_json hands back unchanged: such a column goes as it is, without a per-value call.
_PLAIN = frozenset({str, int, bool, _NONE})
_FLOAT_OR_NONE = frozenset({float, _NONE})
_TEXT_OR_NONE = frozenset({str, _NONE})
_DICT_OR_NONE = frozenset({dict, _NONE})
_ONLY_NONE = {_NONE}
_SWAP = sys.byteorder == "big"  # the wire is little-endian


def _types(values: Sequence[Any]) -> set[type]:
    # By type, never by value: values may be unhashable, or compare elementwise (numpy arrays).
    return set(map(type, values))


def feature_names(features: Sequence[Any]) -> tuple[str, ...] | None:
    """Return the one key tuple every features dict has (``()`` when all are None), or None when
    they differ in keys or order, a key is not a string, or one is not a dict (or only some None)."""
    kinds = _types(features)
    if kinds == _ONLY_NONE:
        return ()
    if kinds != {dict}:
        return None
    names = tuple(features[0])
    # Every dict as long as the first, and all their keys in a row equal to the first's repeated:
    # each has the same key tuple. List equality compares key objects by identity first: C speed.
    if set(map(len, features)) != {len(names)}:
        return None
    if list(itertools.chain.from_iterable(features)) != list(names) * len(features):
        return None
    return names if all(type(name) is str for name in names) else None


def _json(value: Any) -> bytes:
    return _ENCODER.encode(value).encode("utf-8")


def _packed_json(values: Sequence[float]) -> bytes:
    # Base64 never needs escaping: spliced in as bytes, the encoder never scans it.
    packed = array("d", values)
    if _SWAP:
        packed.byteswap()
    return b'{"' + PACKED.encode() + b'":"' + base64.b64encode(packed.tobytes()) + b'"}'


def _packed(values: Sequence[Any], stats: EncodeStats, with_none: bool = False) -> bytes:
    """Pack floats (None among them when ``with_none``) as float64: None and NaN go as NaN (null),
    infinities as NaN counted in ``stats.non_finite`` one per value, as clean_json counts them."""
    if with_none:
        values = [_NAN if v is None else v for v in values]
    if not math.isfinite(sum(values)):  # NaN or inf somewhere (or a sum that overflows): look closer
        infinities = sum(1 for v in values if v in _INFINITIES)
        if infinities:
            stats.non_finite += infinities
            values = [_NAN if v in _INFINITIES else v for v in values]
    return _packed_json(values)


def _column(values: Sequence[Any], stats: EncodeStats, kinds: set[type] | None = None) -> bytes:
    """Return the JSON of one column (``kinds``: the types of its values, when known): packed
    when every value is a float (or None, with at least one float), else a list of the values
    cleaned as the records path cleans them."""
    if kinds is None:
        kinds = _types(values)
    if float in kinds and kinds <= _FLOAT_OR_NONE:
        return _packed(values, stats, _NONE in kinds)
    if kinds <= _PLAIN:
        return _json(values)
    return _json([clean_json(v, stats) for v in values])


def _timestamps(values: Sequence[Any]) -> bytes:
    """Timestamps go as they are (the records path does not clean them). Raises ValueError for a
    non-finite float: the records path refuses that record, so the batch goes as records."""
    if _types(values) != {float}:
        return _json(values)  # the encoder refuses NaN/inf among them
    if not math.isfinite(sum(values)) and not all(map(math.isfinite, values)):
        raise ValueError("a timestamp is not finite")
    return _packed_json(values)


def _object(fields: Mapping[str, bytes]) -> bytes:
    """A JSON object from names and the JSON of their values."""
    return b"{" + b",".join(_json(name) + b":" + value for name, value in fields.items()) + b"}"


def _features(features: Sequence[Any], names: tuple[str, ...], stats: EncodeStats,
              policy: RedactionPolicy | None) -> bytes:
    if not names:
        return b"{}"
    width = len(names)
    flat = list(itertools.chain.from_iterable(map(dict.values, features)))
    columns: dict[str, Sequence[Any] | None] = (
        {name: flat[j::width] for j, name in enumerate(names)} if policy is None
        else {name: _redacted(name, flat[j::width], policy, stats) for j, name in enumerate(names)})
    # An all-null feature column still goes (as a list): records carry those explicit nulls.
    return _object({name: _column(values, stats) for name, values in columns.items() if values is not None})


def _redacted(name: str, values: list[Any], policy: RedactionPolicy, stats: EncodeStats) -> Sequence[Any] | None:
    # A field the policy acts on is cleaned first (NaN, infinities and numpy NaN become null and
    # stay null, infinities counted), as the records path cleans a record it redacts. None: the
    # policy drops it, and the column is left out (null in every row, as a missing key).
    if name in policy.fields:
        values = [clean_json(v, stats) for v in values]
    return redact_feature_column(name, values, policy)


def _eligible_ids(ids: Sequence[Any]) -> bool:
    # What wire_id accepts (before redaction); an invalid id is dropped alone on the records path.
    return _types(ids) == {str} and min(map(len, ids)) > 0 and max(map(len, ids)) <= MAX_ID_LENGTH


def columns_body(items: Sequence[PredictionItem], envelope: Mapping[str, Any], weight: float | None,
                 stats: EncodeStats, policy: RedactionPolicy | None = None) -> bytes | None:
    """Return the ``{**envelope, "columns": {...}}`` body for buffered predictions, redacted
    under the client's ``policy`` as the records path redacts a cleaned record
    (modelwatch.columnar_redact), or None when the batch is not eligible: empty, an item with a
    feature timestamp, features that are not all dicts with one key tuple, an id the records
    path would refuse, an error that is not text or slices that are not a dict. ``envelope``
    must not be empty and should hold "model" first (the collector's fast path reads it).
    Infinities become null and are counted in ``stats.non_finite`` as the records path counts
    them.

    Raises TypeError / ValueError (RecursionError) for values JSON cannot carry: send records.
    """
    if not items or not envelope:
        return None
    ids, times, features, predictions, scores, probabilities, latencies, errors, slices, fresh = zip(*items)
    if _types(fresh) != _ONLY_NONE or not _eligible_ids(ids):
        return None
    # Errors are text and slices mappings as the client buffers them; anything else the records
    # path handles (and reports) as it always has.
    if not _types(errors) <= _TEXT_OR_NONE or not _types(slices) <= _DICT_OR_NONE:
        return None
    names = feature_names(features)
    if names is None:
        return None
    columns = {
        "prediction_id": _json(ids if policy is None else redact_id_column(ids, policy)),
        "timestamp": _timestamps(times),
        "features": _features(features, names, stats, policy),
    }
    for field, values in (("prediction", predictions), ("score", scores), ("probabilities", probabilities),
                          ("latency_ms", latencies)):
        kinds = _types(values)
        if kinds != _ONLY_NONE:  # an all-null column is left out: null for every row
            columns[field] = _column(values, stats, kinds)
    if _types(errors) != _ONLY_NONE:
        if policy is not None:
            errors = redact_error_column(errors, policy)  # type: ignore[assignment]
        columns["error"] = _json([None if e is None else e[:MAX_ERROR_LENGTH] for e in errors])
    if any(slices):
        tags = [_clean_slices(s) if s else None for s in slices]
        columns["slices"] = _json(tags if policy is None else redact_slices_column(tags, policy))
    if weight is not None and weight != 1.0:
        if not math.isfinite(weight):
            raise ValueError(f"weight must be finite, got {weight}")
        columns["weight"] = _packed_json([float(weight)] * len(ids))
    head = _json(dict(envelope))
    return head[:-1] + b',"columns":' + _object(columns) + b"}"


def column_values(column: Any, n: int) -> list[Any]:
    """Return the n values of a wire column (packed NaN read as None). Raises ValueError, saying
    why, when it is neither a list nor ``{"f8": "<base64>"}`` of n float64 values."""
    if isinstance(column, Mapping) and set(column) == {PACKED} and isinstance(column[PACKED], str):
        packed = array("d")
        try:
            packed.frombytes(base64.b64decode(column[PACKED], validate=True))
        except ValueError:  # binascii.Error included
            raise ValueError(f"packed column: expected base64 of {n} little-endian float64 values") from None
        if _SWAP:
            packed.byteswap()
        values = [None if v != v else v for v in packed]
    elif isinstance(column, list):
        values = column
    else:
        raise ValueError(f'expected an array or {{"{PACKED}": "<base64>"}}, not {type(column).__name__}')
    if len(values) != n:
        raise ValueError(f"{len(values)} values, expected {n} (one per prediction_id)")
    return values


def assemble_records(ids: Sequence[Any], features: Mapping[str, Sequence[Any]],
                     others: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Return the records columns stand for: record k has the prediction id, the features (nulls
    kept) and every other field whose value k is not null."""
    records = []
    for k, prediction_id in enumerate(ids):
        record: dict[str, Any] = {"prediction_id": prediction_id,
                                  "features": {name: values[k] for name, values in features.items()}}
        record.update((field, values[k]) for field, values in others.items() if values[k] is not None)
        records.append(record)
    return records


def records_from_columns(columns: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return the records a ``columns`` object stands for (``assemble_records``).

    Raises KeyError without prediction_id / features, ValueError for a malformed column.
    """
    ids = columns["prediction_id"]
    n = len(ids)
    features = {name: column_values(col, n) for name, col in columns["features"].items()}
    others = {field: column_values(col, n) for field, col in columns.items() if field not in ("prediction_id", "features")}
    return assemble_records(ids, features, others)


def payload_records(payload: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return the records of a decoded ``/v1/predictions`` or ``/v1/labels`` body, columnar or not."""
    if "columns" in payload:
        return records_from_columns(payload["columns"])
    return list(payload.get("records", ()))
