"""Wires the model's PII policy (modelwatch.redact, shared with the SDK) into the collector.

Cheap on the hot path: work is done per column of a batch, per distinct value. Field actions
only touch the fields the policy names; detectors only run on string values of categorical and
text features, slice values and error text. Categorical values repeat a lot, so strings found
clean are remembered (a bounded set) and not scanned again.

The SDK applies the same policy client-side, so values may arrive already redacted: a hashed
field that already holds ``hmac:<64 hex>`` is kept, not hashed twice (``[MASKED]`` and dropped
fields are naturally idempotent).

Prediction ids of predictions and labels alike go through ``redact_prediction_ids`` (hashed when
the policy says so or a detector finds PII in them), so a label still joins its prediction; it
scans the batch's ids joined, so ids without PII cost a small fraction of a microsecond each.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from operator import attrgetter
from typing import Any

from collector.decode import Decoded
from collector.errors import Problem
from collector.rows import ABSENT, DICTS, RowAccess
from config.monitors import FeatureType, Model
from modelwatch.redact import HASH_PREFIX, RedactionPolicy, redact_record, redact_text
from modelwatch.redact_ids import redact_prediction_ids

_CLEAN_CACHE_MAX = 50_000  # distinct clean strings remembered per model
_CLEAN_CACHE_MAX_LEN = 128  # longer strings are free text; caching them would not pay off
_HASHED = re.compile(re.escape(HASH_PREFIX) + r"[0-9a-f]{64}")
_PREDICTION_ID = attrgetter("prediction_id")
DEFAULT_KEY_ENV = "MODELWATCH_PII_KEY"
# Names the field and the remedy, never the id: the id is the personal data.
ID_NEEDS_KEY = ("looks like personal data (e-mail, phone or card number) and must be hashed, but no "
                "PII key is configured (MODELWATCH_PII_KEY); not stored")


def pii_key_for(model: Model, settings_key: bytes | None) -> bytes | None:
    """The HMAC key for ``model``: its own ``hash_key_env`` variable when it names one other
    than the default and that variable is set, else the service key (settings.pii_key)."""
    env = model.pii.hash_key_env
    if env != DEFAULT_KEY_ENV and os.environ.get(env):
        return os.environ[env].encode("utf-8")
    return settings_key


class Redactor:
    """Applies one model's policy to decoded records, in place on dicts the collector owns."""

    def __init__(self, model: Model, pii_key: bytes | None) -> None:
        self.policy = RedactionPolicy(
            fields={name: action.value for name, action in model.pii.fields.items()},
            detectors=tuple(model.pii.detectors), hash_key=pii_key_for(model, pii_key),
            prediction_id=model.pii.prediction_id,
        )
        feature_names = {f.name for f in model.features}
        self._feature_actions = tuple(n for n in self.policy.fields if n in feature_names)
        # A named field may be both a feature and a slice tag (slices often repeat features).
        self._slice_actions = frozenset(self.policy.fields)
        self._detectors = self.policy.detectors
        # Categorical values may be sent as numbers, but detectors only look at strings.
        scanned = [f.name for f in model.features
                   if f.type is not FeatureType.numeric and f.name not in self.policy.fields]
        self._scanned = tuple(scanned) if self._detectors else ()
        self._clean: set[str] = set()

    @property
    def active(self) -> bool:
        return bool(self._feature_actions or self._scanned)

    def text(self, value: str) -> str:
        """``value`` with e-mails, card numbers and phone numbers replaced."""
        if value in self._clean or not self._detectors:
            return value
        redacted = redact_text(value, self._detectors)
        if redacted == value and len(value) <= _CLEAN_CACHE_MAX_LEN:
            if len(self._clean) >= _CLEAN_CACHE_MAX:
                self._clean.clear()  # crude but bounded; refills with the current hot values
            self._clean.add(value)
        return redacted

    def _apply_action(self, rows: Sequence[Any], name: str, access: RowAccess) -> None:
        hashing = self.policy.fields[name] == "hash" and self.policy.hash_key is not None
        memo: dict[Any, dict[str, Any]] = {}
        for row in rows:
            value = access.get(row, name)
            if value is ABSENT:
                continue
            if hashing and value.__class__ is str and _HASHED.fullmatch(value):
                continue  # hashed by the SDK already
            out = memo.get(value)
            if out is None:
                out = memo[value] = redact_record({name: value}, self.policy)
            access.put(row, name, out.get(name, ABSENT))

    def _scan_column(self, rows: Sequence[Any], name: str, access: RowAccess) -> None:
        changed: dict[str, str] = {}
        get = access.getter(name)
        for value in set(map(get, rows)):  # categorical values repeat: each distinct one once
            if value.__class__ is str:
                redacted = self.text(value)
                if redacted != value:
                    changed[value] = redacted
        if changed:
            for row in rows:
                value = get(row)
                if value.__class__ is str and value in changed:
                    access.put(row, name, changed[value])

    def features(self, rows: Sequence[Any], access: RowAccess = DICTS) -> None:
        """Redact a batch of feature rows in place: dicts (flat reference rows too) or, with a
        StructAccess, decoded msgspec Structs."""
        for name in self._feature_actions:
            self._apply_action(rows, name, access)
        for name in self._scanned:
            self._scan_column(rows, name, access)

    def slices(self, rows: Sequence[dict[str, Any]]) -> None:
        """Redact a batch of slice-tag dicts in place: the policy's actions on the keys it
        names, detectors on every other string value (once per distinct key and value)."""
        for name in self._slice_actions:
            holders = [row for row in rows if name in row]
            if holders:
                self._apply_action(holders, name, DICTS)
        if not self._detectors:
            return
        memo: dict[tuple[str, str], str] = {}
        text = self.text
        for row in rows:
            for key, value in row.items():
                if value.__class__ is str and key not in self._slice_actions:
                    pair = (key, value)
                    redacted = memo.get(pair)
                    if redacted is None:
                        redacted = memo[pair] = text(value)
                    if redacted is not value:
                        row[key] = redacted  # replacing a value while iterating is allowed

    def prediction_id_list(self, ids: list[str]) -> tuple[list[str], list[int]]:
        """Return the ids to store for ``ids`` (``ids`` itself when none changes) and the
        ascending positions of ids that must be hashed while there is no key, whose rows the
        caller refuses with ID_NEEDS_KEY (see ``modelwatch.redact_ids.redact_prediction_ids``)."""
        return redact_prediction_ids(ids, self.policy)

    def prediction_ids(self, decoded: Decoded) -> None:
        """Redact the prediction ids of decoded predictions or labels in place. A record whose
        id must be hashed while there is no key is dropped from ``decoded`` with a Problem."""
        policy = self.policy
        if policy.prediction_id == "keep" or (policy.prediction_id == "detect" and not self._detectors):
            return
        records = decoded.records
        ids = list(map(_PREDICTION_ID, records))
        stored, needs_key = self.prediction_id_list(ids)
        if stored is not ids:
            for record, before, after in zip(records, ids, stored):
                if after is not before:
                    record.prediction_id = after
        if not needs_key:
            return
        refused = set(needs_key)
        decoded.problems.extend(Problem(decoded.row(k), "prediction_id", ID_NEEDS_KEY) for k in needs_key)
        rows = [decoded.row(k) for k in range(len(records)) if k not in refused]
        decoded.records = [record for k, record in enumerate(records) if k not in refused]
        decoded.rows = rows

    def error(self, message: str) -> str:
        """Error text from serving code: detectors always run (no cache: rarely repeats)."""
        return redact_text(message, self._detectors) if self._detectors else message
