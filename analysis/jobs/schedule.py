"""When and over what windows a model is analysed: the ``schedule`` key of its ``analysis:``
section, and the window arithmetic (pure functions of times).

    analysis:
      schedule:
        window: 1h          # fixed windows, aligned on multiples of the length since 1970-01-01 UTC
        delay: 5m           # a window is analysed this long after it closes (late samples)
        every: 5m           # how often the scheduler looks for closed windows and late labels
        catchup: 1d         # how far back a starting scheduler analyses windows not yet done
        label_horizon: 30d  # labels for predictions older than this no longer rerun windows
        reference: default  # the reference dataset drift and quality compare with
        max_slice_values: 20  # per slice key, the heaviest values; the rest is "(other)"
        enabled: true

The rest of ``analysis:`` is the statistics' AnalysisPolicy (analysis/stats/policy.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from analysis.stats.policy import AnalysisPolicy
from config.durations import Duration
from config.monitors import Model

SCHEDULE_KEY = "schedule"
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class ScheduleSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    window: Duration = timedelta(hours=1)
    delay: Duration = timedelta(minutes=5)
    every: Duration = timedelta(minutes=5)
    catchup: Duration = timedelta(days=1)
    label_horizon: Duration = timedelta(days=30)
    reference: str = "default"
    max_slice_values: int = Field(default=20, ge=1, le=1_000)
    enabled: bool = True

    @model_validator(mode="after")
    def _positive(self) -> ScheduleSettings:
        if self.window < timedelta(minutes=1) or self.window.total_seconds() % 60:
            raise ValueError(f"window must be a whole number of minutes >= 1m, got {self.window}")
        if self.every <= timedelta(0):
            raise ValueError("every must be > 0")
        return self


@dataclass(frozen=True)
class ModelAnalysis:
    """A model's parsed ``analysis:`` section."""

    policy: AnalysisPolicy
    schedule: ScheduleSettings


def model_analysis(model: Model) -> ModelAnalysis:
    """Parse ``model.analysis``: ``schedule`` here, everything else as AnalysisPolicy.

    Raises pydantic.ValidationError naming the wrong key."""
    section: dict[str, Any] = dict(model.analysis)
    schedule = ScheduleSettings.model_validate(section.pop(SCHEDULE_KEY, None) or {})
    return ModelAnalysis(AnalysisPolicy.model_validate(section), schedule)


@dataclass(frozen=True, order=True)
class Window:
    start: datetime
    end: datetime

    def __str__(self) -> str:
        return f"[{self.start.isoformat()}, {self.end.isoformat()})"


def window_floor(t: datetime, length: timedelta) -> datetime:
    """Start of the fixed window of ``length`` containing ``t`` (aligned on the epoch)."""
    seconds = int(length.total_seconds())
    offset = int((t - EPOCH).total_seconds() // seconds) * seconds
    return EPOCH + timedelta(seconds=offset)


def windows_between(start: datetime, end: datetime, length: timedelta) -> Iterator[Window]:
    """Fixed windows whose start is in ``[floor(start), end)`` and that end by ``end``."""
    t = window_floor(start, length)
    while t + length <= end:
        yield Window(t, t + length)
        t += length


def closed_windows(now: datetime, schedule: ScheduleSettings, since: datetime | None = None) -> list[Window]:
    """Windows due for analysis at ``now``: closed at least ``delay`` ago, and starting no
    earlier than ``now - catchup`` (or ``since`` when later), oldest first."""
    until = now - schedule.delay
    earliest = now - schedule.catchup
    if since is not None and since > earliest:
        earliest = since
    return list(windows_between(earliest, until, schedule.window))
