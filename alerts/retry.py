"""Delivery pacing as pure decisions: retry backoff with full jitter, and a token bucket.

``next_attempt``: after ``attempt`` failed tries (1 = the first), wait
``uniform(0, min(cap, base * 2^(attempt-1)))`` ("full jitter", spreads retries of many
notifications so a recovering receiver is not hit by a thundering herd), but never less than the
receiver's Retry-After. Pages are never dropped by default: no attempt limit, no deadline.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from alerts.notification import DeliveryResult

__all__ = ["RetryPolicy", "TokenBucket", "backoff_delay", "next_attempt"]


@dataclass(frozen=True)
class RetryPolicy:
    base: timedelta = timedelta(seconds=1)
    cap: timedelta = timedelta(minutes=5)
    max_attempts: int | None = None  # None: keep trying (a page must not be lost)
    deadline: timedelta | None = None  # give up this long after the first attempt, if set


def backoff_delay(attempt: int, policy: RetryPolicy, rng: random.Random) -> timedelta:
    """Return ``uniform(0, min(cap, base * 2^(attempt-1)))`` for ``attempt >= 1``."""
    if attempt < 1:
        raise ValueError(f"attempt counts tries made so far and starts at 1, got {attempt}")
    # Cap the exponent too: 2**attempt overflows timedelta long before the cap matters.
    ceiling = min(policy.cap.total_seconds(), policy.base.total_seconds() * 2 ** min(attempt - 1, 62))
    return timedelta(seconds=rng.uniform(0.0, ceiling))


def next_attempt(
    attempt: int,
    result: DeliveryResult,
    now: datetime,
    rng: random.Random,
    policy: RetryPolicy = RetryPolicy(),
    first_attempt_at: datetime | None = None,
) -> datetime | None:
    """Return when to try again after ``attempt`` tries ending in ``result``, or None for stop
    (delivered, a permanent failure, or the policy's attempt limit / deadline reached)."""
    if result.ok or not result.retryable:
        return None
    if policy.max_attempts is not None and attempt >= policy.max_attempts:
        return None
    delay = backoff_delay(attempt, policy, rng)
    if result.retry_after is not None:
        delay = max(delay, timedelta(seconds=result.retry_after))
    when = now + delay
    if policy.deadline is not None and first_attempt_at is not None and when > first_attempt_at + policy.deadline:
        return None
    return when


@dataclass(frozen=True)
class TokenBucket:
    """``rate`` tokens per second up to ``burst``; one send takes one token. Immutable: ``take``
    returns the new bucket, so the worker can keep it per receiver (or in the database)."""

    rate: float
    burst: float
    tokens: float
    updated_at: datetime

    @classmethod
    def full(cls, rate: float, burst: float, now: datetime) -> TokenBucket:
        if rate <= 0 or burst < 1:
            raise ValueError(f"a token bucket needs rate > 0 and burst >= 1, got {rate}, {burst}")
        return cls(rate, burst, burst, now)

    def refilled(self, now: datetime) -> TokenBucket:
        elapsed = max((now - self.updated_at).total_seconds(), 0.0)
        return replace(self, tokens=min(self.burst, self.tokens + elapsed * self.rate), updated_at=max(now, self.updated_at))

    def take(self, now: datetime, count: float = 1.0) -> tuple[bool, TokenBucket, timedelta]:
        """Return (allowed, bucket after, wait): ``wait`` is how long until ``count`` tokens exist."""
        bucket = self.refilled(now)
        if bucket.tokens >= count:
            return True, replace(bucket, tokens=bucket.tokens - count), timedelta(0)
        return False, bucket, timedelta(seconds=(count - bucket.tokens) / self.rate)
