"""Label sets: frozen, hashable mappings with a stable fingerprint.

An alert's identity is its label set (model, version, slo, kind, severity, team, slice...); the
fingerprint is a hash of the sorted labels, stable across processes and restarts, so the
scheduler, the outbox and receivers (PagerDuty dedup_key) agree on which alert is which.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

__all__ = ["LABEL_NAME", "Labels", "fingerprint"]

LABEL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Labels(Mapping[str, str]):
    """An immutable ``name -> value`` mapping; an empty value means the label is absent
    (as in Alertmanager), so it is dropped. Iterates in sorted name order."""

    __slots__ = ("_items", "_lookup")

    def __init__(self, mapping: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None, **labels: Any) -> None:
        merged = dict(mapping or {}, **labels)
        for name, value in merged.items():
            if not isinstance(name, str) or not LABEL_NAME.match(name):
                raise ValueError(f"label name {name!r} does not match {LABEL_NAME.pattern}")
            if not isinstance(value, str):
                raise ValueError(f"label {name!r} has a non-text value {value!r}")
        self._items: tuple[tuple[str, str], ...] = tuple(sorted((k, v) for k, v in merged.items() if v != ""))
        self._lookup = dict(self._items)

    def __getitem__(self, name: str) -> str:
        return self._lookup[name]

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Labels):
            return self._items == other._items
        if isinstance(other, Mapping):
            return self._lookup == dict(other)
        return NotImplemented

    def __repr__(self) -> str:
        body = ", ".join(f'{k}="{v}"' for k, v in self._items)
        return "{" + body + "}"

    def items_tuple(self) -> tuple[tuple[str, str], ...]:
        """The sorted ``(name, value)`` pairs."""
        return self._items

    def merge(self, other: Mapping[str, str]) -> Labels:
        """Return these labels updated with ``other`` (an empty value in ``other`` removes a label)."""
        return Labels({**self._lookup, **other})

    def only(self, names: Iterable[str]) -> Labels:
        """Return the subset of labels whose names are in ``names`` (missing ones are skipped)."""
        wanted = set(names)
        return Labels({k: v for k, v in self._items if k in wanted})

    @property
    def fingerprint(self) -> str:
        return fingerprint(self)


def fingerprint(labels: Mapping[str, str]) -> str:
    """Return 16 hex digits of SHA-256 over the sorted ``name\\xffvalue`` pairs, ``\\xfe``-joined.

    The separator bytes cannot occur in UTF-8 text, so distinct label sets never collide by
    concatenation (``{a="b,c"}`` vs ``{a="b", c=...}``).
    """
    digest = hashlib.sha256()
    for name, value in sorted(labels.items()):
        if value == "":
            continue
        digest.update(name.encode() + b"\xff" + value.encode() + b"\xfe")
    return digest.hexdigest()[:16]
