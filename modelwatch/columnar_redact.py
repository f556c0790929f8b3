"""A client's redaction policy applied to a columnar batch, column by column: exactly what
``payloads.prediction_record`` does to each record (``redact_record`` on features and slices,
the detectors on error text, ``wire_id`` on prediction ids), so a client with a ``pii`` policy
keeps the cheap columnar encoding. Stdlib only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from modelwatch.redact import DROPPED, RedactionPolicy, field_action, redact_record, redact_text, scan_value
from modelwatch.redact_ids import redact_prediction_ids

__all__ = ["redact_error_column", "redact_feature_column", "redact_id_column", "redact_slices_column"]


def redact_id_column(ids: Sequence[str], policy: RedactionPolicy) -> list[str]:
    """The ids as ``payloads.wire_id`` sends them: redacted, or as they are where hashing needs
    a key the client does not have (the collector, which holds it, hashes them)."""
    stored, _needs_key = redact_prediction_ids(list(ids), policy)  # those keep their id in stored
    return stored


def redact_feature_column(name: str, values: Sequence[Any], policy: RedactionPolicy) -> Sequence[Any] | None:
    """One feature's values as ``redact_record`` leaves them; None when the policy drops the
    feature (then the column is left out, which means null in every row, as a missing key)."""
    action = policy.fields.get(name)
    if action is not None:
        if field_action(action, None, policy) is DROPPED:  # dropping does not depend on the value
            return None
        return [field_action(action, value, policy) for value in values]
    detectors = policy.detectors
    if not detectors:
        return values
    # Categories repeat: each distinct string is scanned once.
    memo = {text: scan_value(text, detectors) for text in {v for v in values if v.__class__ is str}}
    return [memo[v] if v.__class__ is str else scan_value(v, detectors) for v in values]


def redact_error_column(errors: Sequence[str | None], policy: RedactionPolicy) -> list[str | None]:
    """Error text with the detectors applied (before it is cut, as the records path does)."""
    return [None if e is None else redact_text(e, policy.detectors) for e in errors]


def redact_slices_column(slices: Sequence[dict[str, Any] | None], policy: RedactionPolicy) -> list[Any]:
    """Cleaned slice tags (``payloads._clean_slices``) with the policy applied, row by row."""
    return [None if tags is None else redact_record(tags, policy) for tags in slices]
