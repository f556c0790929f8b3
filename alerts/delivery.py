"""The delivery worker's decisions, pure: what to do with one outbox entry now.

The worker (built later against the store's outbox table) loops: claim due entries, ask
``plan_delivery`` per entry, call ``Receiver.send`` when told to, then store ``after_attempt``'s
entry and a delivery-log row. Because an entry is marked delivered only after the receiver
accepted it and PagerDuty/Alertmanager deduplicate by key, a receiver that is down delays a page
but never loses it; at-least-once delivery plus the dedup key keeps it from being duplicated.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum

from alerts.notification import DeliveryResult
from alerts.retry import RetryPolicy, TokenBucket, next_attempt

__all__ = ["DeliveryAction", "DeliveryPlan", "OutboxEntry", "after_attempt", "plan_delivery"]


class DeliveryAction(str, Enum):
    send = "send"
    wait = "wait"  # not due yet, or rate limited: look again at ``at``
    finished = "finished"  # delivered, or given up (see OutboxEntry.failed)


@dataclass(frozen=True)
class OutboxEntry:
    notification_id: str
    receiver: str
    next_attempt_at: datetime
    attempts: int = 0
    first_attempt_at: datetime | None = None
    delivered_at: datetime | None = None
    failed: bool = False  # permanent failure or policy limit: needs a human
    last_error: str | None = None


@dataclass(frozen=True)
class DeliveryPlan:
    action: DeliveryAction
    at: datetime
    bucket: TokenBucket | None  # the receiver's bucket after this decision


def plan_delivery(entry: OutboxEntry, bucket: TokenBucket | None, now: datetime) -> DeliveryPlan:
    """Send now, wait (until ``at``), or nothing left to do."""
    if entry.delivered_at is not None or entry.failed:
        return DeliveryPlan(DeliveryAction.finished, now, bucket)
    if now < entry.next_attempt_at:
        return DeliveryPlan(DeliveryAction.wait, entry.next_attempt_at, bucket)
    if bucket is None:
        return DeliveryPlan(DeliveryAction.send, now, None)
    allowed, bucket, wait = bucket.take(now)
    if not allowed:
        return DeliveryPlan(DeliveryAction.wait, now + wait, bucket)
    return DeliveryPlan(DeliveryAction.send, now, bucket)


def after_attempt(entry: OutboxEntry, result: DeliveryResult, now: datetime, rng: random.Random, policy: RetryPolicy = RetryPolicy()) -> OutboxEntry:
    """The entry after one ``send``: delivered, scheduled for retry, or failed for good."""
    attempts = entry.attempts + 1
    first = entry.first_attempt_at or now
    if result.ok:
        return replace(entry, attempts=attempts, first_attempt_at=first, delivered_at=now, last_error=None)
    when = next_attempt(attempts, result, now, rng, policy, first)
    if when is None:
        return replace(entry, attempts=attempts, first_attempt_at=first, failed=True, last_error=result.error)
    return replace(entry, attempts=attempts, first_attempt_at=first, next_attempt_at=when, last_error=result.error)
