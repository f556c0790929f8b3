"""The alert state machine: inactive -> pending -> firing -> resolved, as a pure step function.

``step(previous, is_active, now, for_)`` is called once per evaluation cycle per alert
fingerprint; it returns the new record, the transitions taken and whether a firing or resolved
notification is due. Re-sending a still-firing alert is the grouping stage's job (repeat_interval).

    inactive --active--> pending (for_ > 0) or firing (for_ == 0)     [notify firing]
    pending  --active, for_ elapsed--> firing                         [notify firing]
    pending  --inactive--> inactive                                   (never fired: no notification)
    firing   --inactive--> resolved                                   [notify resolved]
    resolved --active--> pending / firing (a new episode)
    resolved --inactive, keep_resolved elapsed--> inactive            (forgotten)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

__all__ = ["AlertRecord", "AlertState", "Notify", "StepResult", "Transition", "step"]


class AlertState(str, Enum):
    inactive = "inactive"
    pending = "pending"
    firing = "firing"
    resolved = "resolved"


class Notify(str, Enum):
    firing = "firing"
    resolved = "resolved"


@dataclass(frozen=True)
class AlertRecord:
    """What the scheduler keeps per fingerprint between cycles."""

    state: AlertState = AlertState.inactive
    active_since: datetime | None = None  # start of the current pending/firing episode
    fired_at: datetime | None = None
    resolved_at: datetime | None = None


@dataclass(frozen=True)
class Transition:
    source: AlertState
    target: AlertState
    at: datetime


@dataclass(frozen=True)
class StepResult:
    record: AlertRecord
    transitions: tuple[Transition, ...]
    notify: Notify | None


def step(
    previous: AlertRecord,
    is_active: bool,
    now: datetime,
    for_: timedelta = timedelta(0),
    keep_resolved: timedelta = timedelta(minutes=15),
) -> StepResult:
    """Advance one alert by one evaluation; see the module docstring for the transitions.

    ``for_``: how long the condition must hold before firing. ``keep_resolved``: how long a
    resolved alert is remembered (and shown) before it becomes inactive again.
    """
    state = previous.state
    if is_active:
        if state in (AlertState.inactive, AlertState.resolved):
            started = AlertRecord(AlertState.pending, active_since=now)
            if for_ <= timedelta(0):
                return _go(previous, AlertRecord(AlertState.firing, now, fired_at=now), now, Notify.firing)
            return _go(previous, started, now, None)
        if state is AlertState.pending:
            since = previous.active_since or now
            if now - since >= for_:
                return _go(previous, AlertRecord(AlertState.firing, since, fired_at=now), now, Notify.firing)
        return StepResult(previous, (), None)
    if state is AlertState.pending:
        return _go(previous, AlertRecord(), now, None)
    if state is AlertState.firing:
        record = AlertRecord(AlertState.resolved, previous.active_since, previous.fired_at, resolved_at=now)
        return _go(previous, record, now, Notify.resolved)
    if state is AlertState.resolved and previous.resolved_at is not None and now - previous.resolved_at >= keep_resolved:
        return _go(previous, AlertRecord(), now, None)
    return StepResult(previous, (), None)


def _go(previous: AlertRecord, record: AlertRecord, now: datetime, notify: Notify | None) -> StepResult:
    return StepResult(record, (Transition(previous.state, record.state, now),), notify)
