"""The delivery worker: drains the notification outbox through the receivers.

Each pass claims due rows (store.outbox, leased so concurrent workers never send one row at the
same time), asks ``alerts.delivery.plan_delivery`` whether the receiver's token bucket allows a
send, sends, and stores ``after_attempt``'s outcome plus a delivery-log row: delivered, retried
later (full-jitter backoff, never before a 429's Retry-After, no attempt limit by default), or
failed for good (a permanent 4xx). A receiver that is down delays its rows and loses none; a row
is marked sent only after the receiver accepted it. Secrets are read from ``env`` at send time by
the receivers; the worker logs receiver names, statuses and scrubbed errors only.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy.engine import Engine

from alerts.config import AlertingConfig
from alerts.delivery import DeliveryAction, OutboxEntry, after_attempt, plan_delivery
from alerts.notification import DeliveryResult
from alerts.payload import notification_from_payload
from alerts.receivers import Receiver, make_receiver
from alerts.retry import RetryPolicy, TokenBucket
from store.outbox import OutboxRow, claim_due, next_due_at, record_attempt, release
from store.types import utc_now

__all__ = ["DeliveryReport", "DeliveryWorker"]

logger = logging.getLogger("modelwatch.alerts")



@dataclass(frozen=True)
class DeliveryReport:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    deferred: int = 0  # rate limited: put back unsent
    lost_lease: int = 0


class DeliveryWorker:
    """Sends outbox rows; ``deliver_due`` is one pass, ``run`` loops until ``stop`` is set."""

    def __init__(
        self,
        engine: Engine,
        alerting: AlertingConfig,
        *,
        env: Mapping[str, str] | None = None,
        client: httpx.Client | None = None,
        policy: RetryPolicy = RetryPolicy(),
        rng: random.Random | None = None,
        worker_id: str | None = None,
        batch: int = 20,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.engine = engine
        self.alerting = alerting
        self.env = os.environ if env is None else env
        self.client = client
        self.policy = policy
        self.rng = rng or random.Random()
        self.worker_id = worker_id or f"worker-{uuid.uuid4().hex[:12]}"
        self.batch = batch
        self.clock = clock
        self._receivers: dict[str, Receiver] = {}
        self._buckets: dict[str, TokenBucket] = {}
        # A lease outlives the longest a pass can take sending its batch, so no other worker
        # takes a row while this one may still be sending it.
        longest = max((r.timeout_s for r in alerting.receivers), default=10.0)
        self.lease = timedelta(seconds=30 + batch * longest)

    def _receiver(self, name: str) -> Receiver | None:
        if name not in self._receivers:
            names = {r.name for r in self.alerting.receivers}
            if name not in names:
                return None
            self._receivers[name] = make_receiver(self.alerting.receiver(name), env=self.env, client=self.client)
        return self._receivers[name]

    def _bucket(self, name: str, now: datetime) -> TokenBucket | None:
        config = self.alerting.receiver(name)
        if config.rate_limit_per_minute is None:
            return None
        if name not in self._buckets:
            self._buckets[name] = TokenBucket.full(config.rate_limit_per_minute / 60.0, config.rate_limit_burst, now)
        return self._buckets[name]

    def deliver_due(self, now: datetime | None = None) -> DeliveryReport:
        """One pass over the rows due at ``now`` (default: the clock)."""
        now = now or self.clock()
        rows = claim_due(self.engine, now, self.worker_id, self.lease, self.batch)
        counts = {"sent": 0, "retrying": 0, "failed": 0, "deferred": 0, "lost_lease": 0}
        for row in rows:
            outcome = self._deliver(row, now)
            counts[outcome] += 1
        return DeliveryReport(len(rows), **counts)

    def _deliver(self, row: OutboxRow, now: datetime) -> str:
        receiver = self._receiver(row.receiver)
        if receiver is None:
            # The receiver was removed from the config: keep the row for a human, do not guess.
            return self._record(row, DeliveryResult.failure(f"receiver {row.receiver!r} is not configured", retryable=False), 0.0)
        entry = OutboxEntry(str(row.id), row.receiver, row.next_attempt_at, row.attempts, row.first_attempt_at)
        plan = plan_delivery(entry, self._bucket(row.receiver, now), now)
        if plan.bucket is not None:
            self._buckets[row.receiver] = plan.bucket
        if plan.action is not DeliveryAction.send:
            release(self.engine, [row], self.worker_id, plan.at)
            return "deferred"
        started = time.perf_counter()
        try:
            result = receiver.send(notification_from_payload(row.payload))
        except (KeyError, ValueError, TypeError) as exc:
            # A payload this code cannot read will not get better by retrying.
            result = DeliveryResult.failure(f"unreadable payload: {type(exc).__name__}", retryable=False)
        return self._record(row, result, (time.perf_counter() - started) * 1000.0)

    def _record(self, row: OutboxRow, result: DeliveryResult, duration_ms: float) -> str:
        at = self.clock()
        entry = OutboxEntry(str(row.id), row.receiver, row.next_attempt_at, row.attempts, row.first_attempt_at)
        after = after_attempt(entry, result, at, self.rng, self.policy)
        kept = record_attempt(
            self.engine, row, self.worker_id, at, ok=result.ok, status=result.status, error=result.error,
            duration_ms=duration_ms, next_attempt_at=None if (result.ok or after.failed) else after.next_attempt_at,
            failed=after.failed,
        )
        if not kept:
            logger.warning("notification %d to %s: lease lost before the attempt was recorded", row.id, row.receiver)
            return "lost_lease"
        if result.ok:
            return "sent"
        logger.warning("notification %d to %s: attempt %d failed (%s)%s", row.id, row.receiver, after.attempts,
                       result.error, "; giving up" if after.failed else f"; next at {after.next_attempt_at.isoformat()}")
        return "failed" if after.failed else "retrying"

    def run(self, stop: threading.Event, poll_interval: float = 1.0) -> None:
        """Deliver until ``stop`` is set, sleeping on it (so stopping cuts the wait short)."""
        while not stop.is_set():
            report = self.deliver_due()
            if report.claimed >= self.batch:
                continue  # more may be due right now
            due = next_due_at(self.engine)
            wait = poll_interval if due is None else min(poll_interval, max((due - self.clock()).total_seconds(), 0.0))
            stop.wait(max(wait, 0.05))
