"""How a batch's records hold their fields: dict keys, or msgspec Struct attributes.

Column passes (categorical normalisation, redaction) run over both shapes: decoded prediction
features stay msgspec Structs all the way to the store (no per-row dict), while reference rows
and slice tags are dicts. A Struct field cannot be deleted, so a dropped field is set to
``msgspec.UNSET``, which the encoder leaves out.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from operator import attrgetter, itemgetter
from typing import Any

from msgspec import UNSET

ABSENT: Any = UNSET  # what a getter returns for a field the row does not hold


class RowAccess(ABC):
    """Reads and writes fields by name; subclasses say where the fields live."""

    @abstractmethod
    def getter(self, name: str) -> Callable[[Any], Any]:
        """A C-level getter of field ``name`` for use with ``map``."""

    @abstractmethod
    def get(self, row: Any, name: str) -> Any:
        """The field's value, or ABSENT."""

    @abstractmethod
    def put(self, row: Any, name: str, value: Any) -> None:
        """Set the field; ABSENT removes it."""


class DictAccess(RowAccess):
    """Rows are dicts keyed by field name (every row holds every field for ``getter``)."""

    def getter(self, name: str) -> Callable[[Any], Any]:
        return itemgetter(name)

    def get(self, row: Any, name: str) -> Any:
        return row.get(name, ABSENT)

    def put(self, row: Any, name: str, value: Any) -> None:
        if value is ABSENT:
            row.pop(name, None)
        else:
            row[name] = value


class StructAccess(RowAccess):
    """Rows are msgspec Structs; ``attributes`` maps each field name to its attribute."""

    def __init__(self, attributes: Mapping[str, str]) -> None:
        self.attributes = dict(attributes)

    def getter(self, name: str) -> Callable[[Any], Any]:
        return attrgetter(self.attributes[name])

    def get(self, row: Any, name: str) -> Any:
        return getattr(row, self.attributes[name])

    def put(self, row: Any, name: str, value: Any) -> None:
        setattr(row, self.attributes[name], value)


DICTS = DictAccess()
