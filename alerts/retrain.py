"""Retrain triggers, pure: whether a firing notification to a retrain receiver may call the
retrain webhook now, given the triggers already sent for that model.

A retrain receiver (``type: retrain``) carries a policy: a ``cooldown`` between two triggers of
one model, a cap ``max_per_day`` on triggers in any 24 hours (rolling, so no burst across a
midnight), and ``sustained_for``, how long an alert must have been firing before it counts.
The alert cycle asks ``decide`` at enqueue time, inside its transaction, and records the answer:

- ``sent``: enqueue the webhook; the trigger and an audit entry are stored with it.
- ``cooldown`` / ``capped``: not enqueued. The status is whichever block lasts longer (a cap
  that outlives the cooldown says ``capped``). ``record`` is True only for the first such
  answer of a group since the model's last trigger, so an alert that keeps firing writes one
  row per cooldown window, not one per repeat.

Triggers are counted per (receiver, model): two retrain pipelines of one model are independent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from alerts.alert import Alert, AlertStatus
from alerts.routing import Route

__all__ = [
    "DAY",
    "GateDecision",
    "PastTrigger",
    "RetrainPolicy",
    "TriggerStatus",
    "check_retrain_routes",
    "decide",
    "history_start",
    "sustained",
]

DAY = timedelta(hours=24)


class TriggerStatus(str, Enum):
    sent = "sent"
    cooldown = "cooldown"
    capped = "capped"


@dataclass(frozen=True)
class RetrainPolicy:
    cooldown: timedelta
    max_per_day: int
    sustained_for: timedelta = timedelta(0)

    def __post_init__(self) -> None:
        if self.max_per_day < 1:
            raise ValueError(f"max_per_day must be at least 1, got {self.max_per_day}")
        if self.cooldown < timedelta(0) or self.sustained_for < timedelta(0):
            raise ValueError("cooldown and sustained_for must not be negative")


@dataclass(frozen=True)
class PastTrigger:
    """A stored retrain_triggers row of the same (receiver, model), as the gate needs it."""

    time: datetime
    status: TriggerStatus
    group_key: str


@dataclass(frozen=True)
class GateDecision:
    status: TriggerStatus
    record: bool  # store a retrain_triggers row (always for sent; once per window when held back)
    next_allowed_at: datetime  # when the model may trigger again (after this one, if sent)
    sent_in_last_24h: int  # this one included when sent


def history_start(now: datetime, policy: RetrainPolicy) -> datetime:
    """The oldest trigger time ``decide`` can need: the cooldown and the 24 h cap window."""
    return now - max(policy.cooldown, DAY)


def _blocked_until(sent: Sequence[datetime], now: datetime, policy: RetrainPolicy) -> tuple[datetime, TriggerStatus] | None:
    """When ``sent`` (ascending) stops blocking a trigger at ``now``, and by what; None if it does not."""
    blocks: list[tuple[datetime, TriggerStatus]] = []
    if sent and now < sent[-1] + policy.cooldown:
        blocks.append((sent[-1] + policy.cooldown, TriggerStatus.cooldown))
    in_day = [t for t in sent if now - t < DAY]
    if len(in_day) >= policy.max_per_day:
        # Free again once all but max_per_day - 1 of them are more than 24 h old.
        blocks.append((in_day[-policy.max_per_day] + DAY, TriggerStatus.capped))
    return max(blocks, key=lambda b: b[0]) if blocks else None


def decide(history: Iterable[PastTrigger], group_key: str, now: datetime, policy: RetrainPolicy) -> GateDecision:
    """Send, or hold back for cooldown / cap, a trigger of ``group_key`` at ``now``; ``history``
    holds the (receiver, model)'s triggers since at least ``history_start(now, policy)``."""
    past = [t for t in history if t.time <= now]
    sent = sorted(t.time for t in past if t.status is TriggerStatus.sent)
    blocked = _blocked_until(sent, now, policy)
    if blocked is None:
        after = sent + [now]
        next_block = _blocked_until(after, now, policy)
        in_day = sum(now - t < DAY for t in after)
        return GateDecision(TriggerStatus.sent, True, next_block[0] if next_block else now, in_day)
    until, status = blocked
    already = any(t.group_key == group_key and t.status is status and t.time >= sent[-1] for t in past)
    return GateDecision(status, not already, until, sum(now - t < DAY for t in sent))


def sustained(alerts: Iterable[Alert], now: datetime, sustained_for: timedelta) -> tuple[Alert, ...]:
    """The firing alerts that have been firing for at least ``sustained_for`` at ``now``
    (resolved ones never ask for a retrain)."""
    return tuple(a for a in alerts if a.status is AlertStatus.firing and now - a.starts_at >= sustained_for)


def check_retrain_routes(routes: Iterable[Route], retrain_receivers: set[str]) -> None:
    """Raise ValueError for a route to a retrain receiver that does not group by ``model``: the
    cooldown and cap count per model, so one notification must never mix models."""
    for node in routes:
        if node.receiver in retrain_receivers and not node.groups_by_all and "model" not in node.group_by:
            raise ValueError(
                f"route {node.key} sends to retrain receiver {node.receiver!r} but groups by "
                f"{list(node.group_by)}: a retrain route must group by model (add 'model' to group_by)"
            )
