"""Decode request bodies into typed records, fast when the batch is clean, precise when not.

Fast path: the whole batch in one msgspec call (type checks in C). When that fails, the batch
is decoded as a list of raw JSON values and each row on its own, so every bad row is reported
with its index and field path while the good rows are kept. JSON with NaN / Infinity literals
(Python's json writes them) is not RFC 8259 and msgspec refuses it: such a body is parsed with
the standard library instead, NaN becomes null and an infinity rejects its row.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

import msgspec

from collector.errors import CollectorError, Problem

_RAW_LIST = msgspec.json.Decoder(list[msgspec.Raw])
_PATH = re.compile(r"^(?P<msg>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)
_UNKNOWN = re.compile(r"^Object contains unknown field `(?P<name>.*)`$", re.S)
_MISSING = re.compile(r"^Object missing required field `(?P<name>.*)`$", re.S)
_NON_FINITE_TOKENS = (b"NaN", b"Infinity")
# A body that opens with its model name (the SDK writes "model" first), without escapes.
_MODEL_FIRST = re.compile(rb'\{\s*"model"\s*:\s*"([^"\\]{1,128})"')


@dataclass
class Decoded:
    """Decoded records in order; ``rows[k]`` is the original 0-based index of ``records[k]``
    (None when no row was dropped, so record k is row k); ``problems`` lists dropped rows."""

    records: list[Any]
    rows: list[int] | None = None
    problems: list[Problem] = field(default_factory=list)

    def row(self, k: int) -> int:
        return k if self.rows is None else self.rows[k]


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def problem_from(exc: msgspec.ValidationError, row: int | None) -> Problem:
    """Turn msgspec's ``Expected `float`, got `str` - at `$.features.amount``` into a Problem
    with field ``features.amount``."""
    match = _PATH.match(str(exc))
    message = match.group("msg") if match else str(exc)
    path = (match.group("path") or "") if match else ""
    path = path.lstrip(".")
    if unknown := _UNKNOWN.match(message):
        return Problem(row, _join(path, unknown.group("name")), "unknown field")
    if missing := _MISSING.match(message):
        return Problem(row, _join(path, missing.group("name")), "required field is missing")
    return Problem(row, path, message)


def _too_many(n: int, limit: int) -> CollectorError:
    return CollectorError(413, f"{n} records in one batch; the limit is {limit}")


def model_named_first(body: bytes) -> str | None:
    """The model name when the JSON ``body`` opens with it, else None (then only a full decode
    can tell). A hint: the envelope decoded from the body has the final word."""
    match = _MODEL_FIRST.match(body)
    if match is None:
        return None
    try:
        return match.group(1).decode("utf-8")
    except UnicodeDecodeError:
        return None


def has_non_finite_literals(body: bytes) -> bool:
    return any(token in body for token in _NON_FINITE_TOKENS)


def decode_envelope(body: bytes, raw_type: type, objects_type: type) -> tuple[Any, bool]:
    """The request envelope, and whether it came through the NaN-tolerant slow path (then its
    records are Python objects, else msgspec.Raw). Raises CollectorError 400 / 422."""
    try:
        return msgspec.json.decode(body, type=raw_type), False
    except msgspec.ValidationError as exc:
        raise CollectorError(422, "invalid request body", [problem_from(exc, None)]) from None
    except UnicodeDecodeError as exc:  # latin-1 bytes, a UTF-16 body: JSON is UTF-8 (RFC 8259)
        raise CollectorError(400, f"invalid JSON: not UTF-8 (byte {exc.start})") from None
    except RecursionError:
        raise CollectorError(400, "invalid JSON: nested too deeply") from None
    except msgspec.DecodeError as exc:
        if not has_non_finite_literals(body):
            raise CollectorError(400, f"invalid JSON: {exc}") from None
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise CollectorError(400, f"invalid JSON: {type(exc).__name__}") from None
    try:
        return msgspec.convert(document, objects_type), True
    except msgspec.ValidationError as exc:
        raise CollectorError(422, "invalid request body", [problem_from(exc, None)]) from None


def decode_records(raw: msgspec.Raw | bytes, batch: msgspec.json.Decoder[Any], one: msgspec.json.Decoder[Any],
                   limit: int) -> Decoded:
    """A JSON array of records: all at once, else row by row to find every bad one."""
    try:
        records = batch.decode(raw)
    except (msgspec.ValidationError, UnicodeDecodeError, RecursionError):
        pass  # some row is bad (or records is not an array): find out below
    else:
        if len(records) > limit:
            raise _too_many(len(records), limit)
        return Decoded(records)
    try:
        raws = _RAW_LIST.decode(raw)
    except msgspec.ValidationError as exc:
        raise CollectorError(422, "invalid request body", [Problem(None, "records", str(exc).split(" - at")[0])]) from None
    if len(raws) > limit:
        raise _too_many(len(raws), limit)
    out = Decoded([], [])
    for i, item in enumerate(raws):
        try:
            out.records.append(one.decode(item))
            out.rows.append(i)  # type: ignore[union-attr]
        except msgspec.ValidationError as exc:
            out.problems.append(problem_from(exc, i))
        except (UnicodeDecodeError, RecursionError) as exc:
            out.problems.append(Problem(i, "", _undecodable(exc)))
    return out


def _undecodable(exc: UnicodeDecodeError | RecursionError) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "invalid JSON: not UTF-8"  # JSON is UTF-8 (RFC 8259)
    return "invalid JSON: nested too deeply"


def scrub_non_finite(value: Any, path: str = "") -> tuple[Any, str | None]:
    """NaN -> None anywhere in ``value``; returns the path of the first ±Infinity, if any."""
    if isinstance(value, float):
        if math.isnan(value):
            return None, None
        return value, (path if math.isinf(value) else None)
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            out[key], bad = scrub_non_finite(item, _join(path, str(key)))
            if bad is not None:
                return value, bad
        return out, None
    if isinstance(value, list):
        items = []
        for i, item in enumerate(value):
            clean, bad = scrub_non_finite(item, f"{path}[{i}]")
            if bad is not None:
                return value, bad
            items.append(clean)
        return items, None
    return value, None


def convert_objects(objects: list[Any], record_type: type, limit: int) -> Decoded:
    """Records parsed by the standard library (slow path): scrub, then type-check each row."""
    if len(objects) > limit:
        raise _too_many(len(objects), limit)
    out = Decoded([], [])
    for i, item in enumerate(objects):
        clean, bad = scrub_non_finite(item)
        if bad is not None:
            out.problems.append(Problem(i, bad, "non-finite number (Infinity) is not allowed"))
            continue
        try:
            out.records.append(msgspec.convert(clean, record_type))
            out.rows.append(i)  # type: ignore[union-attr]
        except msgspec.ValidationError as exc:
            out.problems.append(problem_from(exc, i))
    return out


def _lines(body: bytes) -> list[bytes]:
    return [line for line in (raw.strip() for raw in body.split(b"\n")) if line]


def decode_lines(body: bytes, one: msgspec.json.Decoder[Any], record_type: type, limit: int) -> Decoded:
    """NDJSON: one record per non-blank line; row i is the i-th non-blank line. A malformed
    line rejects that row only."""
    try:
        records = one.decode_lines(body)
    except (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        pass
    else:
        if len(records) > limit:
            raise _too_many(len(records), limit)
        return Decoded(records)
    lines = _lines(body)
    if len(lines) > limit:
        raise _too_many(len(lines), limit)
    out = Decoded([], [])
    for i, line in enumerate(lines):
        try:
            record = one.decode(line)
        except msgspec.ValidationError as exc:
            out.problems.append(problem_from(exc, i))
            continue
        except (UnicodeDecodeError, RecursionError) as exc:
            out.problems.append(Problem(i, "", _undecodable(exc)))
            continue
        except msgspec.DecodeError as exc:
            if not has_non_finite_literals(line):
                out.problems.append(Problem(i, "", f"invalid JSON: {exc}"))
                continue
            try:
                document = json.loads(line)
            except (ValueError, RecursionError) as exc2:
                out.problems.append(Problem(i, "", f"invalid JSON: {type(exc2).__name__}"))
                continue
            converted = convert_objects([document], record_type, 1)
            if converted.problems:
                out.problems.append(Problem(i, converted.problems[0].field, converted.problems[0].error))
                continue
            record = converted.records[0]
        out.records.append(record)
        out.rows.append(i)  # type: ignore[union-attr]
    return out
