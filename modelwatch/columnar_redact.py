"""A client's redaction policy applied to a columnar batch, column by column: exactly what
``payloads.prediction_record`` does to each record (``redact_record`` on features and slices,
the detectors on error text, ``wire_id`` on prediction ids), so a client with a ``pii`` policy
keeps the cheap columnar encoding. Stdlib only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from modelwatch.redact import _HASHED, MASK, RedactionPolicy, _redact_any, _substitute, hash_value, redact_record, redact_text
from modelwatch.redact_ids import redact_prediction_ids

__all__ = ["redact_error_column", "redact_feature_column", "redact_id_column", "redact_slices_column"]

_NOT_SCANNED = frozenset({float, int, bool, type(None)})  # what redact_record's detectors skip


def redact_id_column(ids: Sequence[str], policy: RedactionPolicy) -> list[str]:
    """The ids as ``payloads.wire_id`` sends them: redacted, or as they are where hashing needs
    a key the client does not have (the collector, which holds it, hashes them)."""
    stored, _needs_key = redact_prediction_ids(list(ids), policy)  # those keep their id in stored
    return stored


def redact_feature_column(name: str, values: Sequence[Any], policy: RedactionPolicy) -> Sequence[Any] | None:
    """One feature's values under ``policy``; None when the policy drops the feature (then the
    column is left out, which means null in every row, as a missing key does)."""
    action = policy.fields.get(name)
    if action is None:
        detectors = policy.detectors
        if not detectors or set(map(type, values)) <= _NOT_SCANNED:
            return values
        memo: dict[str, str] = {}
        out = []
        for value in values:
            if value.__class__ is str:
                redacted = memo.get(value)
                if redacted is None:
                    redacted = memo[value] = _substitute(value, detectors)
                out.append(redacted)
            elif value.__class__ in _NOT_SCANNED:
                out.append(value)
            else:  # nested lists and mappings, str subclasses
                out.append(_redact_any(value, detectors))
        return out
    if action == "drop" or (action == "hash" and policy.hash_key is None):
        return None
    # None, NaN and infinities (null on the wire) stay missing, as redact_record keeps them.
    if action == "hash":
        key = policy.hash_key
        return [None if _missing(value) else value if type(value) is str and _HASHED.fullmatch(value)
                else hash_value(value, key) for value in values]  # type: ignore[arg-type]
    return [None if _missing(value) else MASK for value in values]


def _missing(value: Any) -> bool:
    return value is None or (value.__class__ is float and not math.isfinite(value))


def redact_error_column(errors: Sequence[str | None], policy: RedactionPolicy) -> list[str | None]:
    """Error text with the detectors applied (before it is cut, as the records path does)."""
    return [None if e is None else redact_text(e, policy.detectors) for e in errors]


def redact_slices_column(slices: Sequence[dict[str, Any] | None], policy: RedactionPolicy) -> list[Any]:
    """Cleaned slice tags (``payloads._clean_slices``) with the policy applied, row by row."""
    return [None if tags is None else redact_record(tags, policy) for tags in slices]
