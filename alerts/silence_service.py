"""Silences as the API and the CLI manage them: validate with alerts.silences.Silence, then store.

Both front ends call these, so a silence made with ``modelwatch silence add`` and one posted to
``/v1/silences`` are the same thing, listed and expired the same way.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine

from alerts.matchers import Matcher
from alerts.persist import silence_from_row
from alerts.silences import Silence, SilenceState
from store import silences as store

__all__ = ["SilenceView", "create_silence", "expire_silence", "list_silences"]


@dataclass(frozen=True)
class SilenceView:
    silence: Silence
    state: SilenceState
    created_at: datetime
    expired_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        s = self.silence
        return {
            "id": s.id, "matchers": [str(m) for m in s.matchers], "author": s.created_by, "comment": s.comment,
            "starts_at": s.starts_at.isoformat(), "ends_at": s.ends_at.isoformat(), "state": self.state.value,
            "created_at": self.created_at.isoformat(),
            "expired_at": self.expired_at.isoformat() if self.expired_at else None,
        }


def create_silence(engine: Engine, matchers: Sequence[str], author: str, comment: str, now: datetime, *,
                   duration: timedelta | None = None, starts_at: datetime | None = None, ends_at: datetime | None = None,
                   actor: str = "cli") -> Silence:
    """Validate and store a silence from ``starts_at`` (default now) for ``duration`` or until
    ``ends_at``. Raises ValueError (pydantic.ValidationError) naming what is wrong."""
    start = starts_at or now
    if (duration is None) == (ends_at is None):
        raise ValueError("give either a duration or an end time")
    end = ends_at if ends_at is not None else start + duration  # type: ignore[operator]
    if end <= now:
        raise ValueError(f"the silence would already be over (ends {end.isoformat()})")
    silence = Silence(
        id=str(uuid.uuid4()), matchers=tuple(Matcher.model_validate(m) for m in matchers), starts_at=start, ends_at=end,
        created_by=author, comment=comment,
    )
    store.insert_silence(engine, silence.id, [str(m) for m in silence.matchers], author, comment, start, end, now, actor)
    return silence


def list_silences(engine: Engine, now: datetime, include_expired: bool = False) -> list[SilenceView]:
    """Active and pending silences (and ended ones too with ``include_expired``), newest first."""
    rows = store.list_silences(engine, None if include_expired else now)
    views = []
    for row in rows:
        silence = silence_from_row(row)
        views.append(SilenceView(silence, silence.state(now), row.created_at, row.expired_at))
    return views


def expire_silence(engine: Engine, silence_id: str, now: datetime, actor: str = "cli") -> bool:
    """End the silence now; False when there is no such silence still running or pending."""
    return store.expire_silence(engine, silence_id, now, actor)
