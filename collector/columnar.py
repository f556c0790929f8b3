"""Columnar prediction batches (docs/protocol.md, "Columnar batches"): features named once per
batch, float columns packed as base64 float64, so the SDK encodes a row in about a tenth of
what per-row JSON records cost.

Two paths, like collector.decode:

- fast: the batch decoded in one typed msgspec pass and turned into store columns column by
  column. It takes clean batches only; anything it cannot take as it is (a null where a feature
  may not be null, a time out of range, an infinity, a packed column that does not decode, a
  prediction id to hash without a key, feature times, NUL) makes it decline, and then
- records: the columns are turned back into the records they stand for (row k of every column
  is record k) and go through the records path, which names every bad row and keeps the others.

A columnar batch therefore stores exactly what the records batch with the same rows stores.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timezone
from itertools import repeat
from typing import Any

import msgspec
import numpy as np

from collector import decode
from collector.codecs import ModelCodec
from collector.columnar_types import ANY_COLUMNS, Packed
from collector.errors import CollectorError, Problem
from collector.rows import ABSENT, RowAccess
from collector.validate import MAX_ERROR_CHARS, TimeBounds, normalise_categorical, normalise_slices, outputs
from config.monitors import FeatureType
from modelwatch.columnar import assemble_records, column_values
from store.records import PredictionColumns

UTC = timezone.utc
_HEAD = 1024  # the SDK writes model, version and batch_id before "columns"
_encode = msgspec.json.Encoder().encode
_FLOATS = frozenset({float, type(None)})
_TEXT = frozenset({str, type(None)})


class Decline(Exception):
    """The fast path cannot take this batch as it is; the records path will say why."""


def looks_columnar(body: bytes) -> bool:
    """Whether a JSON body is worth trying as a columnar batch: "columns" in its head, before any
    "records". A hint only: both paths decode the body in full."""
    head = body[:_HEAD]
    at = head.find(b'"columns"')
    if at < 0:
        return False
    records = head.find(b'"records"')
    return records < 0 or records > at


def unpack(text: str, n: int) -> np.ndarray | None:
    """A packed column's n float64 values, or None when it is not base64 of exactly n of them."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 8 * n:
        return None
    return np.frombuffer(raw, dtype="<f8")


# -- the records path ----------------------------------------------------------------------------


def _column_values(value: Any, n: int, path: str) -> list[Any]:
    try:
        return column_values(value, n)
    except ValueError as exc:
        raise CollectorError(422, "invalid request body", [Problem(None, path, str(exc))]) from None


def records_from_columns(columns: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    """The records a columnar batch stands for (docs/protocol.md; modelwatch.columnar, the
    SDK's reader of the same format, assembles them). Raises CollectorError 422 naming a column
    of the wrong shape or length, 413 for more rows than ``limit``."""
    ids = columns.get("prediction_id")
    if not isinstance(ids, list):
        raise CollectorError(422, "invalid request body", [Problem(None, "columns.prediction_id", "expected an array")])
    n = len(ids)
    if n > limit:
        raise CollectorError(413, f"{n} records in one batch; the limit is {limit}")
    features = columns.get("features", {})
    if not isinstance(features, dict):
        raise CollectorError(422, "invalid request body", [Problem(None, "columns.features", "expected an object")])
    return assemble_records(
        ids, {name: _column_values(value, n, f"columns.features.{name}") for name, value in features.items()},
        {name: _column_values(value, n, f"columns.{name}")
         for name, value in columns.items() if name not in ("prediction_id", "features")})


def decode_as_records(body: bytes, codecs: Callable[[str], ModelCodec], limit: int
                      ) -> tuple[Any, ModelCodec, decode.Decoded] | None:
    """A columnar body decoded the records way: (envelope, codec, decoded records with every
    bad row named). None when the body has no ``columns`` (it is a records body)."""
    envelope, _ = decode.decode_envelope(body, ANY_COLUMNS, ANY_COLUMNS)
    if envelope.columns is None:
        return None
    codec = codecs(envelope.model)
    records = records_from_columns(envelope.columns, limit)
    return envelope, codec, decode.convert_objects(records, codec.prediction_type, limit)


# -- the fast path -------------------------------------------------------------------------------


class ColumnAccess(RowAccess):
    """Rows are positions in per-field lists: lets the Redactor and categorical normalisation,
    written for rows, run over columns unchanged."""

    def __init__(self, columns: dict[str, list[Any]]) -> None:
        self.columns = columns

    def getter(self, name: str) -> Callable[[Any], Any]:
        return self.columns[name].__getitem__

    def get(self, row: Any, name: str) -> Any:
        return self.columns[name][row]

    def put(self, row: Any, name: str, value: Any) -> None:
        self.columns[name][row] = value


def _packed(column: Packed, n: int) -> np.ndarray:
    values = unpack(column.f8, n)
    if values is None:
        raise Decline
    return values


def _floats(column: Any, n: int, minimum: float = -math.inf, default: float | None = None) -> list[Any]:
    """A float column as a list, nulls as ``default``; declines on +-inf or a value below
    ``minimum`` (the records path rejects those rows)."""
    if column is None:
        return [default] * n
    if column.__class__ is Packed:
        values = _packed(column, n)
        if np.isfinite(values).all():  # no NaN (null), no infinity: the common case
            if n and minimum != -math.inf and values.min() < minimum:
                raise Decline
            return values.tolist()
        out = [default if x != x else x for x in values.tolist()]
    elif len(column) != n:
        raise Decline
    else:
        out = column if default is None or None not in column else [default if x is None else x for x in column]
    present = [x for x in out if x is not None]
    if present and (min(present) < minimum or math.inf in map(abs, present)):
        raise Decline
    return out


def _times(column: Any, n: int, bounds: TimeBounds) -> list[datetime]:
    if column is None:
        return [bounds.default] * n
    if column.__class__ is Packed:
        values = _packed(column, n)
        if n and not (bounds.earliest_s <= values.min() and values.max() <= bounds.latest_s):
            raise Decline  # also NaN (a null time): rare, the records path stamps it
        return list(map(datetime.fromtimestamp, values.tolist(), repeat(UTC)))
    if len(column) != n:
        raise Decline
    out = []
    for value in column:
        checked = bounds.default if value is None else bounds.check(value)
        if isinstance(checked, str):
            raise Decline
        out.append(checked)
    return out


def _same_length(column: list[Any] | None, n: int) -> list[Any]:
    if column is None:
        return [None] * n
    if len(column) != n:
        raise Decline
    return column


def _feature_columns(codec: ModelCodec, columns: Any, n: int) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for i, feature in enumerate(codec.model.features):
        column = getattr(columns, f"f{i}")
        if feature.type is FeatureType.numeric:
            values = _floats(column, n)
        else:
            values = _same_length(column, n)
        if not feature.nullable and (column is None or None in values):
            raise Decline
        out[feature.name] = values
    return out


def feature_documents(names: Sequence[str], columns: dict[str, list[Any]], n: int,
                      droppable: Collection[str] = (), floats: Collection[str] = ()) -> list[bytes]:
    """Each row's features as the JSON text the records path stores (every declared feature, in
    declared order, null where missing); a ``droppable`` column the redaction policy dropped is
    left out. ``floats`` names columns known to hold floats and nulls only."""
    kept = []
    for name in names:
        column = columns[name]
        if name in droppable and ABSENT in column:
            if column.count(ABSENT) != n:
                raise Decline  # dropped from some rows only: not something a policy does
            continue
        kept.append(name)
    if not kept or not n:
        return [b"{}"] * n
    last = len(kept) - 1
    pieces = [_keyed(b"{" if j == 0 else b",", name, b"}" if j == last else b"", columns[name], name in floats)
              for j, name in enumerate(kept)]
    return list(map(b"".join, zip(*pieces)))


def _keyed(lead: bytes, name: str, tail: bytes, column: list[Any], floats: bool = False) -> list[bytes]:
    """``lead + "name": + value + tail`` for each value of a column, made without a Python loop
    per value: a column of floats is encoded in one call and cut at its commas (a number holds
    none, and compact JSON holds no newline), strings once per distinct value."""
    prefix = lead + _encode(name) + b":"
    kinds = _FLOATS if floats else set(map(type, column))
    if kinds <= _FLOATS:
        text = _encode(column)[1:-1]
        return (prefix + text.replace(b",", tail + b"\n" + prefix) + tail).split(b"\n")
    if kinds <= _TEXT:  # categories repeat: each distinct one encoded once
        memo = {value: prefix + _encode(value) + tail for value in set(column)}
        return list(map(memo.__getitem__, column))
    return [prefix + _encode(value) + tail for value in column]


def fast_columns(codec: ModelCodec, envelope: Any, bounds: TimeBounds) -> tuple[PredictionColumns, set[str]]:
    """The store batch for a typed-decoded columnar batch and the versions it names.
    Raises Decline when the records path must take it."""
    cols = envelope.columns
    if cols.feature_time is not None:
        raise Decline
    ids = cols.prediction_id
    n = len(ids)
    redactor = codec.redactor
    ids, needs_key = redactor.prediction_id_list(ids)
    if needs_key:
        raise Decline
    times = _times(cols.timestamp, n, bounds)
    if cols.version is None:
        if envelope.version is None:
            raise Decline
        versions = [envelope.version] * n
    else:
        versions = [v or envelope.version for v in _same_length(cols.version, n)]
        if None in versions:
            raise Decline
    features = _feature_columns(codec, cols.features, n)
    rows = range(n)
    access = ColumnAccess(features)
    normalise_categorical(rows, codec.categorical, access)
    if redactor.active:
        redactor.features(rows, access)
    changeable = redactor.policy.fields if redactor.active else {}
    floats = [f.name for f in codec.model.features if f.type is FeatureType.numeric and f.name not in changeable]
    documents = feature_documents(codec.feature_names, features, n, changeable, floats)
    slices = _same_length(cols.slices, n)
    tagged = [tags for tags in slices if tags is not None]
    if tagged:
        normalise_slices(tagged)
        redactor.slices(tagged)
    errors = _same_length(cols.error, n)
    if errors.count(None) != n:
        errors = [None if e is None else redactor.error(e[:MAX_ERROR_CHARS]) for e in errors]
    predictions, values = outputs(_same_length(cols.prediction, n), codec.classifier)
    weights = _floats(cols.weight, n, default=1.0)
    if n and min(weights) <= 0:
        raise Decline
    batch = PredictionColumns(
        time=times, model=[codec.model.name] * n, version=versions, prediction_id=ids, features=documents,
        prediction=predictions, prediction_value=values, score=_floats(cols.score, n),
        probabilities=_same_length(cols.probabilities, n), latency_ms=_floats(cols.latency_ms, n, minimum=0.0),
        error=errors, slices=slices, weight=weights,
    )
    return batch, set(versions)

