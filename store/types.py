"""Column types that behave the same on PostgreSQL and SQLite."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

def utc_now() -> datetime:
    """The current time as an aware UTC datetime: the only kind modelwatch stores."""
    return datetime.now(timezone.utc)


# jsonb on PostgreSQL (indexable, queryable), plain JSON text elsewhere. Python None is SQL
# NULL (not the JSON text 'null'), as binary COPY stores it, so `IS NULL` means the same on every path.
JsonDocument = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")

# json (checked text) on PostgreSQL, for the one wide, write-heavy document: prediction features.
# Binary COPY of 25-feature rows ran 1.4-3.5x faster into json than into jsonb here, since jsonb
# parses every number into numeric on the way in. ->> and json_* functions still work; jsonb-only
# operators (@>, ?, GIN indexes) need a cast.
JsonText = JSON(none_as_null=True)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes everywhere.

    SQLite has no timestamp type and hands back naive strings; PostgreSQL hands back the
    session's time zone. Both are normalised to aware UTC so comparisons never mix the two.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: modelwatch stores aware UTC times only")
        value = value.astimezone(timezone.utc)
        # SQLite stores the text as given; keep it naive UTC so lexical order is time order.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)
