"""Wires the model's PII policy (modelwatch.redact, shared with the SDK) into the collector.

Cheap on the hot path: field actions only touch the fields the policy names, and detectors only
run on string values of categorical/text features, slice values and error text. Categorical
values repeat a lot, so strings already found clean are remembered (bounded set) and skipped.
"""

from __future__ import annotations

import os
from typing import Any

from config.monitors import FeatureType, Model
from modelwatch.redact import RedactionPolicy, redact_record, redact_text

_CLEAN_CACHE_MAX = 50_000  # distinct clean strings remembered per model
_CLEAN_CACHE_MAX_LEN = 128  # longer strings are free text; caching them would not pay off
DEFAULT_KEY_ENV = "MODELWATCH_PII_KEY"


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
        )
        feature_names = {f.name for f in model.features}
        self._feature_actions = tuple(n for n in self.policy.fields if n in feature_names)
        # A named field may be both a feature and a slice tag (slices often repeat features).
        self._slice_actions = frozenset(self.policy.fields)
        self._detectors = self.policy.detectors
        scanned = [f.name for f in model.features
                   if f.type is not FeatureType.numeric and f.name not in self.policy.fields]
        # Categorical values may be sent as numbers, but detectors only look at strings.
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

    def features(self, features: dict[str, Any]) -> dict[str, Any]:
        """Redact a decoded features dict in place (and return it)."""
        if self._feature_actions:
            named = {n: features.pop(n) for n in self._feature_actions}
            features.update(redact_record(named, self.policy))
        for name in self._scanned:
            value = features[name]
            if value.__class__ is str:
                features[name] = self.text(value)
        return features

    def slices(self, slices: dict[str, str]) -> dict[str, str]:
        """Slice tags with the policy's actions and detectors applied."""
        if not self._slice_actions.intersection(slices):
            text = self.text
            return {k: text(v) for k, v in slices.items()}
        return redact_record(slices, self.policy)

    def error(self, message: str) -> str:
        """Error text from serving code: detectors always run (no cache: rarely repeats)."""
        return redact_text(message, self._detectors) if self._detectors else message
