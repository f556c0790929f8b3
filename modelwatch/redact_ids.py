"""Prediction ids under a redaction policy (``RedactionPolicy.prediction_id``), stdlib only.

An id is the same for a prediction and its labels, so redacting it must keep them joined:

- ``detect`` (the default): an id in which a detector finds an e-mail, card or phone number is
  hashed as a whole (a placeholder would merge every such id into one); other ids are kept.
- ``hash``: every id is hashed. ``keep``: ids are never changed (ids known to be opaque).

Hashing an id needs the key: ``redact_prediction_id`` returns None when there is none, and the
caller decides (the SDK sends the id for the collector to hash; the collector refuses the row).
``redact_prediction_ids`` gives the same result for a whole batch at a fraction of the cost.
"""

from __future__ import annotations

import re
import string
from bisect import bisect_right
from itertools import accumulate, count
from operator import add

from modelwatch.redact import (
    _CARD_BODY,
    _HASHED,
    _NUMBER_CHECKS,
    _PATTERNS,
    _PHONE_BODY,
    _UUID,
    RedactionPolicy,
    _substitute,
    hash_value,
)

__all__ = ["redact_prediction_id", "redact_prediction_ids"]


def _id_has_pii(prediction_id: str, detectors: tuple[str, ...]) -> bool:
    # Fast paths, exact for these detectors: letters and digits alone (with a letter) leave every
    # digit run glued to a word character, which no card or phone match may be, and hold no '@';
    # a canonical UUID has no group a card or phone pattern may start at. Only ids with
    # separators or digits alone pay for the regular expressions.
    if (prediction_id.isalnum() and not prediction_id.isdigit()) or _UUID.fullmatch(prediction_id):
        return False
    return _substitute(prediction_id, detectors) != prediction_id


def redact_prediction_id(prediction_id: str, policy: RedactionPolicy) -> str | None:
    """Return the prediction id to store under ``policy``: ``hash_value(id, key)`` when the
    policy says ``hash``, or says ``detect`` and one of its detectors finds an e-mail, card or
    phone number in the id; else the id unchanged (also an id already in hashed form).

    Hashing keeps ids distinct and equal ids equal, so labels still join their predictions when
    both are redacted with the same key. Returns None when the id must be hashed and the policy
    has no key.
    """
    action = policy.prediction_id
    if action == "keep" or _HASHED.fullmatch(prediction_id):
        return prediction_id
    if action != "hash" and not (policy.detectors and _id_has_pii(prediction_id, policy.detectors)):
        return prediction_id
    if policy.hash_key is None:
        return None
    return hash_value(prediction_id, policy.hash_key)


def redact_prediction_ids(ids: list[str], policy: RedactionPolicy) -> tuple[list[str], list[int]]:
    """Return ``(stored, needs_key)`` for a batch: ``stored[k] == redact_prediction_id(ids[k],
    policy)`` for every k except the ascending positions ``needs_key``, where that is None (the
    id must be hashed and the policy has no key; ``stored[k]`` is then the id unchanged).

    ``stored`` is ``ids`` itself when no id changes, else a new list; ``ids`` is not modified.
    Under ``detect`` a few scans of the joined batch pick the ids a detector may flag, and only
    those go through ``redact_prediction_id``.
    """
    action = policy.prediction_id
    if action == "keep" or (action == "detect" and not policy.detectors):
        return ids, []
    suspects = range(len(ids)) if action == "hash" else _pii_id_suspects(ids, policy.detectors)
    stored = ids
    needs_key: list[int] = []
    for k in suspects:
        redacted = redact_prediction_id(ids[k], policy)
        if redacted is None:
            needs_key.append(k)
        elif redacted != ids[k]:
            if stored is ids:
                stored = list(ids)
            stored[k] = redacted
    return stored, needs_key


# Joins a batch of ids for scanning. No class or literal of _EMAIL, _CARD or _PHONE matches it, so
# no match spans two ids; next to it the lookbehinds (?<![\w+.,\-]) / (?<![\w+.,/\-]) and the
# lookaheads (?!\w|[.,\-]\d) / (?!\w|[.,/\-]\d) succeed, as at the start and end of a string
# (the patterns have no \b, ^, $ or '.'). So a pattern finds in the joined text exactly the
# matches it finds in each id alone, and its scan goes on after an id as at the start of the next.
_ID_SEPARATOR = "\x00"
# A card or phone match starts at a digit, '+' or '(' after no word character and none of
# [+.,-] (the lookbehinds): at an id's start or after some other character inside the id. At an
# id's start the lookbehind passes, so the body alone decides; with the separator as a literal
# first character the regex engine jumps from id to id. A card's first digit must be 2-6.
_ID_START = {
    "card": re.compile(_ID_SEPARATOR + "(?=[2-6])(" + _CARD_BODY + ")"),
    "phone": re.compile(_ID_SEPARATOR + "(" + _PHONE_BODY + ")", re.VERBOSE),
}
# Inside an id: after a character outside this ASCII class (it may pick a position no pattern
# starts at, e.g. after '/' or a non-ASCII letter, never miss one). Most batches hold none of
# those characters, which bytes.translate tells far faster than the regular expression.
_INNER_START = re.compile(r"[^A-Za-z0-9_+.,\-" + _ID_SEPARATOR + r"](?=[\d+(])")
_INNER_START_NEVER_AFTER = (string.ascii_letters + string.digits + "_+.,-" + _ID_SEPARATOR).encode("ascii")
_AT = re.compile("@")


def _pii_id_suspects(ids: list[str], detectors: tuple[str, ...]) -> list[int]:
    # Ascending positions of the ids in which a detector finds something, plus ids with '@' that
    # hold no e-mail and ids holding the separator, for redact_prediction_id to decide.
    text = _ID_SEPARATOR + _ID_SEPARATOR.join(ids)
    numbers = tuple(kind for kind in _NUMBER_CHECKS if kind in detectors)
    found: list[int] = []  # offsets in text
    if "email" in detectors and "@" in text:
        found += [m.start() for m in _AT.finditer(text)]
    for kind in numbers:
        check = _NUMBER_CHECKS[kind]
        found += [m.start(1) for m in _ID_START[kind].finditer(text) if check(m.group(1))]
    suspects = _owners(ids, found) if found else set()
    if numbers and (not text.isascii() or text.encode("ascii").translate(None, _INNER_START_NEVER_AFTER)):
        inner = [m.end() for m in _INNER_START.finditer(text)]
        if inner:
            suspects.update(_ids_with_numbers(ids, sorted(_owners(ids, inner)), numbers))
    if text.count(_ID_SEPARATOR) != len(ids):  # the proof covers these too; they are rare, so be sure
        suspects.update(k for k, prediction_id in enumerate(ids) if _ID_SEPARATOR in prediction_id)
    return sorted(suspects)


def _ids_with_numbers(ids: list[str], candidates: list[int], numbers: tuple[str, ...]) -> list[int]:
    # The candidates (positions in ids) in which a card or phone match passes its check: each
    # pattern runs once over the candidates joined (exact: see _ID_SEPARATOR).
    chosen = [ids[k] for k in candidates]
    text = _ID_SEPARATOR + _ID_SEPARATOR.join(chosen)
    found: list[int] = []
    for kind in numbers:
        check = _NUMBER_CHECKS[kind]
        found += [m.start() for m in _PATTERNS[kind].finditer(text) if check(m.group())]
    return [candidates[i] for i in _owners(chosen, found)] if found else []


def _owners(ids: list[str], offsets: list[int]) -> set[int]:
    # Positions in ids of the ids holding these offsets of separator + separator.join(ids):
    # id k starts at 1 + (lengths of the ids before k) + k.
    starts = list(map(add, accumulate(map(len, ids), initial=0), count(1)))
    return {bisect_right(starts, offset) - 1 for offset in offsets}
