"""Silences: matchers, who and why, and a time range. Active while ``starts_at <= now < ends_at``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import Enum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from alerts.alert import Alert
from alerts.matchers import Matcher, matches_all

__all__ = ["Silence", "SilenceState", "active_silences", "is_silenced", "silenced_by"]


class SilenceState(str, Enum):
    pending = "pending"
    active = "active"
    expired = "expired"


class Silence(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    matchers: tuple[Matcher, ...] = Field(min_length=1)
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    created_by: str = Field(min_length=1)
    comment: str = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> Silence:
        if self.ends_at < self.starts_at:
            raise ValueError(f"silence ends at {self.ends_at} before it starts at {self.starts_at}")
        # As in Alertmanager: a silence whose every matcher matches "" would silence everything.
        if all(m.matches({}) for m in self.matchers):
            raise ValueError("at least one matcher must not match an empty label (the silence would match every alert)")
        return self

    def state(self, now: datetime) -> SilenceState:
        if now < self.starts_at:
            return SilenceState.pending
        return SilenceState.active if now < self.ends_at else SilenceState.expired

    def matches(self, labels: Mapping[str, str]) -> bool:
        return matches_all(self.matchers, labels)

    def expire(self, now: datetime) -> Silence:
        """Return the silence ended at ``now`` (a pending one ends before it began)."""
        if self.state(now) is SilenceState.expired:
            return self
        starts = min(self.starts_at, now)
        return self.model_copy(update={"starts_at": starts, "ends_at": now})


def active_silences(silences: Iterable[Silence], now: datetime) -> tuple[Silence, ...]:
    return tuple(s for s in silences if s.state(now) is SilenceState.active)


def silenced_by(alert: Alert, silences: Iterable[Silence], now: datetime) -> tuple[str, ...]:
    """Ids of the active silences that match the alert."""
    return tuple(s.id for s in active_silences(silences, now) if s.matches(alert.labels))


def is_silenced(alert: Alert, silences: Iterable[Silence], now: datetime) -> bool:
    """True when an active silence matches the alert's labels at ``now``."""
    return bool(silenced_by(alert, silences, now))
