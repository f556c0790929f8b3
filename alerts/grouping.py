"""Aggregation groups: when a group's notification is sent, as pure functions of state and time.

Follows Alertmanager's aggregation group and dedup stage:

- A new group flushes first after ``group_wait`` (counted from its oldest alert's start, so an
  alert that has been firing for a while is not held back), then every ``group_interval``.
- At a flush, a notification is sent when (``needs_update``): nothing was sent yet and something
  fires; a firing alert was not in the last notification; every alert resolved after some were
  notified as firing; (``send_resolved``) a resolved alert was not in the last notification; or
  nothing changed but ``repeat_interval`` has passed since the last notification.
- Once a flush finds nothing firing, the group is done and can be dropped.

The worker calls ``flush`` each cycle with the group's current (unsilenced, uninhibited) alerts
and records ``FlushDecision.log_entry`` in the notification log once the receiver accepted it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from alerts.alert import Alert, AlertStatus
from alerts.labels import Labels
from alerts.routing import Route

__all__ = ["AggregationGroup", "FlushDecision", "NotificationLogEntry", "flush", "needs_update", "next_flush_at", "record_sent"]


@dataclass(frozen=True)
class NotificationLogEntry:
    """What the last successful notification of a group contained (by fingerprint)."""

    firing: frozenset[str]
    resolved: frozenset[str]
    sent_at: datetime


@dataclass(frozen=True)
class AggregationGroup:
    key: str
    route: Route
    labels: Labels  # the group_by labels
    created_at: datetime
    last_flush_at: datetime | None = None
    log: NotificationLogEntry | None = None

    @property
    def receiver(self) -> str:
        return self.route.receiver


@dataclass(frozen=True)
class FlushDecision:
    due: bool  # the timer fired: the group was looked at
    send: bool  # a notification is to be delivered now
    firing: tuple[Alert, ...]
    resolved: tuple[Alert, ...]  # only those the receiver gets (none without send_resolved)
    group: AggregationGroup  # the group after this flush (log unchanged when send is True)
    log_entry: NotificationLogEntry | None  # record on success (or at once when send is False)
    next_flush_at: datetime
    done: bool  # nothing firing any more: the group can be dropped


def next_flush_at(group: AggregationGroup, alerts: Sequence[Alert] = ()) -> datetime:
    """``group_wait`` after the group (or its oldest alert) started, then every ``group_interval``."""
    if group.last_flush_at is not None:
        return group.last_flush_at + group.route.group_interval
    started = min([group.created_at, *(a.starts_at for a in alerts)])
    return started + group.route.group_wait


def needs_update(
    log: NotificationLogEntry | None,
    firing: frozenset[str],
    resolved: frozenset[str],
    send_resolved: bool,
    repeat_interval_s: float,
    now: datetime,
) -> bool:
    """Alertmanager's dedup decision; see the module docstring."""
    if log is None:
        return bool(firing)
    if not firing <= log.firing:
        return True
    if not firing:
        # Resolved ones the receiver never heard of as firing need no message.
        return bool(log.firing)
    if send_resolved and not resolved <= log.resolved:
        return True
    return (now - log.sent_at).total_seconds() >= repeat_interval_s


def flush(group: AggregationGroup, alerts: Sequence[Alert], send_resolved: bool, now: datetime) -> FlushDecision:
    """Decide what the group sends at ``now`` given its current alerts."""
    due_at = next_flush_at(group, alerts)
    if now < due_at:
        return FlushDecision(False, False, (), (), group, None, due_at, False)
    firing = tuple(a for a in alerts if a.status is AlertStatus.firing)
    resolved = tuple(a for a in alerts if a.status is AlertStatus.resolved)
    firing_fps = frozenset(a.fingerprint for a in firing)
    resolved_fps = frozenset(a.fingerprint for a in resolved)
    flushed = replace(group, last_flush_at=now)
    next_at = now + group.route.group_interval
    update = needs_update(
        group.log, firing_fps, resolved_fps, send_resolved, group.route.repeat_interval.total_seconds(), now
    )
    if not update:
        return FlushDecision(True, False, (), (), flushed, None, next_at, not firing)
    entry = NotificationLogEntry(firing_fps, resolved_fps, now)
    delivered_resolved = resolved if send_resolved else ()
    if not firing and not delivered_resolved:
        # Everything resolved and the receiver does not want resolved messages: just remember it.
        return FlushDecision(True, False, (), (), replace(flushed, log=entry), entry, next_at, True)
    return FlushDecision(True, True, firing, delivered_resolved, flushed, entry, next_at, not firing)


def record_sent(group: AggregationGroup, entry: NotificationLogEntry) -> AggregationGroup:
    """Return the group after its notification was accepted by the receiver."""
    return replace(group, log=entry)

