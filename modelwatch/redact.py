"""PII redaction: per-field actions plus free-text detectors, stdlib only.

Shared by the SDK (client-side, in its background thread) and the collector (before anything is
stored or logged), so both apply exactly the same policy.

Field actions, for the keys a policy names:

- ``drop``: the key is removed.
- ``hash``: the value becomes ``"hmac:" + hex(HMAC-SHA256(key, text))``, stable for one key, so
  joins and counts still work. A value that already has that form (hashed by the SDK) is kept,
  so redacting twice changes nothing. Without a key the field is dropped: never kept in clear.
- ``mask``: the value becomes ``"[MASKED]"``. ``None`` stays ``None`` for every action that keeps
  the key, so missing rates survive redaction.

Detectors, applied to every string (also inside lists and dicts) of a key no action names:

- ``email``: ``local@domain.tld`` -> ``[EMAIL]``.
- ``card``: 13 to 19 digits, single spaces or dashes allowed between them, first digit 2-6 (the
  ranges of Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay, Maestro) and a passing Luhn
  check -> ``[CARD]``. Order numbers and epoch-millisecond ids that fail either check are kept.
- ``phone``: ``+`` and 8-15 digits in groups (``+49 30 1234567``, ``+1 (555) 123-4567``,
  ``+15551234567``); an area code in parentheses and 9-13 digits (``(555) 123-4567``);
  or separated groups that are either 3-3-4 (``555-123-4567``) or start with a trunk ``0`` and
  have 9-12 digits (``030 1234567``, ``0151-2345-6789``) -> ``[PHONE]``. A bare run of digits is
  never a phone (it could be an id or an amount), nor are dates, times, decimals or IP addresses.

Detectors run in the order email, card, phone; numbers are only ever detectors' input when they
are strings (an ``int`` feature is left as it is).

Prediction ids are redacted by ``modelwatch.redact_ids`` with the same detectors.
"""

from __future__ import annotations

import hmac
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from hashlib import sha256
from types import MappingProxyType
from typing import Any

__all__ = [
    "ACTIONS",
    "DETECTORS",
    "HASH_PREFIX",
    "ID_ACTIONS",
    "MASK",
    "PLACEHOLDERS",
    "DROPPED",
    "PiiMatch",
    "RedactionPolicy",
    "field_action",
    "find_pii",
    "hash_value",
    "luhn_valid",
    "redact_record",
    "redact_text",
    "redact_value",
    "scan_value",
]

ACTIONS: tuple[str, ...] = ("drop", "hash", "mask")
DETECTORS: tuple[str, ...] = ("email", "card", "phone")
ID_ACTIONS: tuple[str, ...] = ("detect", "hash", "keep")
HASH_PREFIX = "hmac:"
MASK = "[MASKED]"
PLACEHOLDERS: Mapping[str, str] = MappingProxyType({"email": "[EMAIL]", "card": "[CARD]", "phone": "[PHONE]"})

# Local part and labels are bounded so a hostile string costs linear time, not quadratic.
_EMAIL = re.compile(
    r"[A-Za-z0-9._%+\-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.){1,8}[A-Za-z]{2,63}"
)
# A candidate is a maximal digit run (not glued to a word, a '+' or a decimal point); the Luhn
# and prefix checks decide. Bodies apart from the lookbehinds: redact_prediction_ids reuses them.
_CARD_BODY = r"(?:\d[ \-]?){12,18}\d(?!\w|[.,\-]\d)"
_CARD = re.compile(r"(?<![\w+.,\-])" + _CARD_BODY)
_PHONE_BODY = r"""
    (?:
        \+\d{1,3}(?:[ .\-]?\(\d{1,4}\))?[ .\-]?\d{1,14}(?:[ .\-/]\d{1,14}){0,5}  # international
      | \(\d{2,5}\)[ .\-]?\d{2,8}(?:[ .\-]\d{2,8}){0,3}                      # (area) local
      | \d{2,5}(?:[ .\-/]\d{2,8}){1,4}                                       # grouped national
    )
    (?!\w|[.,/\-]\d)"""
_PHONE = re.compile(r"(?<![\w+.,/\-])" + _PHONE_BODY, re.VERBOSE)
_DIGIT = re.compile(r"\d")
_HASHED = re.compile(r"hmac:[0-9a-f]{64}")
_GROUPS = re.compile(r"\d+")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_CARD_FIRST_DIGITS = frozenset("23456")


def luhn_valid(digits: str) -> bool:
    """Return True when the decimal string ``digits`` passes the Luhn checksum (mod 10)."""
    if not digits or not digits.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _is_card(candidate: str) -> bool:
    digits = candidate.replace(" ", "").replace("-", "")
    return 13 <= len(digits) <= 19 and digits[0] in _CARD_FIRST_DIGITS and luhn_valid(digits)


def _is_phone(candidate: str) -> bool:
    groups = _GROUPS.findall(candidate)
    n_digits = sum(len(g) for g in groups)
    if candidate.startswith("+"):
        return 8 <= n_digits <= 15
    if candidate.startswith("("):
        return 9 <= n_digits <= 13
    if [len(g) for g in groups] == [3, 3, 4]:
        separators = {candidate[3], candidate[7]}
        return len(separators) == 1 and "/" not in separators
    return groups[0].startswith("0") and 9 <= n_digits <= 12


_NUMBER_CHECKS: Mapping[str, Callable[[str], bool]] = {"card": _is_card, "phone": _is_phone}
_CHECKS = {"email": None, **_NUMBER_CHECKS}
_PATTERNS = {"email": _EMAIL, "card": _CARD, "phone": _PHONE}


@dataclass(frozen=True)
class PiiMatch:
    """One detected span of ``text[start:end]``, of detector ``kind``."""

    kind: str
    start: int
    end: int


def _check_detectors(detectors: Iterable[str]) -> tuple[str, ...]:
    names = tuple(str(d) for d in detectors)
    unknown = [d for d in names if d not in _PATTERNS]
    if unknown:
        raise ValueError(f"unknown PII detector(s) {unknown}; known: {list(DETECTORS)}")
    # Canonical order, so results do not depend on how the policy listed them.
    return tuple(d for d in DETECTORS if d in names)


def find_pii(text: str, detectors: Iterable[str] = DETECTORS) -> list[PiiMatch]:
    """Return the spans of ``text`` each detector flags (on the original text, possibly overlapping).

    Raises ValueError for an unknown detector name.
    """
    found: list[PiiMatch] = []
    for kind in _check_detectors(detectors):
        check = _CHECKS[kind]
        for match in _PATTERNS[kind].finditer(text):
            if check is None or check(match.group()):
                found.append(PiiMatch(kind, match.start(), match.end()))
    return sorted(found, key=lambda m: (m.start, m.end))


def _substitute(text: str, detectors: tuple[str, ...]) -> str:
    if "email" in detectors and "@" in text:
        text = _EMAIL.sub(PLACEHOLDERS["email"], text)
    if ("card" in detectors or "phone" in detectors) and _DIGIT.search(text):
        if "card" in detectors:
            text = _CARD.sub(_replace_if(_is_card, PLACEHOLDERS["card"]), text)
        if "phone" in detectors:
            text = _PHONE.sub(_replace_if(_is_phone, PLACEHOLDERS["phone"]), text)
    return text


def _replace_if(check: Any, placeholder: str) -> Any:
    def replace(match: re.Match[str]) -> str:
        candidate = match.group()
        return placeholder if check(candidate) else candidate

    return replace


def redact_text(text: str, detectors: Iterable[str] = DETECTORS) -> str:
    """Return ``text`` with every detected e-mail, card number and phone number replaced.

    Placeholders are ``[EMAIL]``, ``[CARD]``, ``[PHONE]``. Raises ValueError for an unknown detector.
    """
    return _substitute(text, _check_detectors(detectors))


def redact_value(value: Any, detectors: Iterable[str] = DETECTORS) -> Any:
    """Return ``value`` with detectors applied to every string in it (recursing into lists, tuples
    and dicts, whose keys are kept); other values are returned unchanged."""
    return _redact_any(value, _check_detectors(detectors))


def _redact_any(value: Any, detectors: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        return _substitute(value, detectors) if detectors else value
    if isinstance(value, Mapping):
        return {k: _redact_any(v, detectors) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redact_any(v, detectors) for v in value]
    return value


def hash_value(value: Any, key: bytes) -> str:
    """Return ``"hmac:" + hex(HMAC-SHA256(key, text))`` where text is the value's canonical text
    (strings as they are, booleans as ``true``/``false``, other values via ``str``)."""
    if isinstance(value, str):
        text = value
    elif isinstance(value, bool):
        text = "true" if value else "false"
    else:
        text = str(value)
    return HASH_PREFIX + hmac.new(key, text.encode("utf-8"), sha256).hexdigest()


@dataclass(frozen=True)
class RedactionPolicy:
    """What to do with personal data: actions per field name, detectors for every other string.

    ``fields`` maps a feature or slice name to ``drop``, ``hash`` or ``mask``; ``detectors`` names
    the free-text detectors (``email``, ``card``, ``phone``); ``hash_key`` is the HMAC key (without
    it, ``hash`` fields are dropped); ``prediction_id`` is ``detect``, ``hash`` or ``keep`` (see
    ``redact_prediction_id``). Raises ValueError for an unknown action or detector.
    """

    fields: Mapping[str, str] = field(default_factory=dict)
    detectors: tuple[str, ...] = DETECTORS
    hash_key: bytes | None = field(default=None, repr=False)
    prediction_id: str = "detect"

    def __post_init__(self) -> None:
        actions = {str(k): _action_name(v) for k, v in dict(self.fields).items()}
        bad = {k: v for k, v in actions.items() if v not in ACTIONS}
        if bad:
            raise ValueError(f"unknown PII action(s) {bad}; known: {list(ACTIONS)}")
        object.__setattr__(self, "fields", MappingProxyType(actions))
        id_action = _action_name(self.prediction_id)
        if id_action not in ID_ACTIONS:
            raise ValueError(f"unknown prediction_id action {id_action!r}; known: {list(ID_ACTIONS)}")
        object.__setattr__(self, "prediction_id", id_action)
        object.__setattr__(self, "detectors", _check_detectors(self.detectors))
        key = self.hash_key
        if isinstance(key, str):
            key = key.encode("utf-8")
        object.__setattr__(self, "hash_key", key or None)

    @classmethod
    def from_dict(cls, mapping: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> RedactionPolicy:
        """Return a policy from ``{"fields": ..., "detectors": ..., "hash_key": ...}``.

        Accepts the collector config's shape too: ``hash_key_env`` names an environment variable
        holding the key (read from ``environ``, default ``os.environ``) when ``hash_key`` is absent.
        Raises ValueError for unknown keys, actions or detectors.
        """
        unknown = set(mapping) - {"fields", "detectors", "hash_key", "hash_key_env", "prediction_id"}
        if unknown:
            raise ValueError(f"unknown PII policy key(s) {sorted(unknown)}")
        key = mapping.get("hash_key")
        if key is None and mapping.get("hash_key_env"):
            key = (os.environ if environ is None else environ).get(str(mapping["hash_key_env"]))
        return cls(
            fields=dict(mapping.get("fields") or {}),
            detectors=tuple(mapping.get("detectors", DETECTORS)),
            hash_key=key,
            prediction_id=mapping.get("prediction_id") or "detect",
        )

    def is_noop(self) -> bool:
        """Return True when the policy changes nothing (no field actions, no detectors, ids kept)."""
        return not self.fields and not self.detectors and self.prediction_id != "hash"


def _action_name(action: Any) -> str:
    # Accepts plain strings and str-valued enums (config's PiiAction).
    return str(getattr(action, "value", action))


DROPPED: Any = object()  # what ``field_action`` returns for a field the policy removes
_NOT_SCANNED = frozenset({float, int, bool, type(None)})  # values the detectors leave alone


def field_action(action: Any, value: Any, policy: RedactionPolicy) -> Any:
    """Return what a field under ``action`` (drop / hash / mask) holds after redaction, or
    DROPPED. None, NaN and infinities (null on the wire) stay None: missing stays missing."""
    if action == "drop" or (action == "hash" and policy.hash_key is None):
        return DROPPED
    if value is None or (value.__class__ is float and not math.isfinite(value)):
        return None
    if action == "hash":
        if type(value) is str and _HASHED.fullmatch(value):
            return value  # hashed by the SDK already
        return hash_value(value, policy.hash_key)  # type: ignore[arg-type]
    return MASK


def scan_value(value: Any, detectors: tuple[str, ...]) -> Any:
    """Return ``value`` with the detectors applied to its strings (numbers, booleans and None
    as they are)."""
    kind = type(value)
    if kind in _NOT_SCANNED:
        return value
    return _substitute(value, detectors) if kind is str else _redact_any(value, detectors)


def redact_record(record: Mapping[str, Any], policy: RedactionPolicy) -> dict[str, Any]:
    """Return a new dict: ``record`` with the policy's field actions and detectors applied.

    The input is not modified. Keys are kept in order, except dropped ones.
    """
    actions = policy.fields
    detectors = policy.detectors
    out = dict(record)
    if detectors:
        for name, value in record.items():
            if name not in actions:
                out[name] = scan_value(value, detectors)
    for name, action in actions.items():
        if name in out:
            value = field_action(action, out[name], policy)
            if value is DROPPED:
                del out[name]
            else:
                out[name] = value
    return out
