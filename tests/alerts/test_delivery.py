"""Retry backoff with full jitter, Retry-After, token buckets and outbox entry decisions."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from alerts.delivery import DeliveryAction, OutboxEntry, after_attempt, plan_delivery
from alerts.notification import DeliveryResult
from alerts.retry import RetryPolicy, TokenBucket, backoff_delay, next_attempt
from tests.alerts.conftest import NOW

S = timedelta(seconds=1)
DOWN = DeliveryResult.failure("ConnectError", retryable=True)


def test_full_jitter_stays_within_the_exponential_ceiling() -> None:
    rng = random.Random(3)
    policy = RetryPolicy(base=S, cap=60 * S)
    for attempt, ceiling in [(1, 1), (2, 2), (3, 4), (6, 32), (7, 60), (200, 60)]:
        delays = [backoff_delay(attempt, policy, rng).total_seconds() for _ in range(300)]
        assert 0 <= min(delays) and max(delays) <= ceiling
        assert max(delays) > 0.8 * ceiling  # spread over the whole range, not a fixed delay
    with pytest.raises(ValueError):
        backoff_delay(0, policy, rng)


def test_next_attempt_decisions() -> None:
    rng = random.Random(1)
    assert next_attempt(1, DeliveryResult.success(202), NOW, rng) is None
    assert next_attempt(1, DeliveryResult.failure("HTTP 400", status=400, retryable=False), NOW, rng) is None
    retry = next_attempt(1, DOWN, NOW, rng)
    assert retry is not None and NOW <= retry <= NOW + S
    # 429 Retry-After is honoured even when the backoff would be shorter.
    limited = DeliveryResult.failure("HTTP 429", status=429, retryable=True, retry_after=30)
    assert next_attempt(1, limited, NOW, rng) >= NOW + 30 * S
    # Pages are never dropped by default; a policy may cap attempts or set a deadline.
    assert next_attempt(10_000, DOWN, NOW, rng) is not None
    assert next_attempt(3, DOWN, NOW, rng, RetryPolicy(max_attempts=3)) is None
    assert next_attempt(2, DOWN, NOW, rng, RetryPolicy(deadline=S), first_attempt_at=NOW - 10 * S) is None


def test_token_bucket() -> None:
    bucket = TokenBucket.full(rate=1.0, burst=2, now=NOW)
    ok1, bucket, _ = bucket.take(NOW)
    ok2, bucket, _ = bucket.take(NOW)
    ok3, bucket, wait = bucket.take(NOW)
    assert (ok1, ok2, ok3) == (True, True, False) and wait == S
    ok4, bucket, _ = bucket.take(NOW + S)
    assert ok4
    ok5, _, _ = bucket.take(NOW + 10 * S)  # refills up to burst only
    assert ok5 and bucket.refilled(NOW + 100 * S).tokens == 2
    with pytest.raises(ValueError):
        TokenBucket.full(rate=0, burst=1, now=NOW)


def test_receiver_down_delays_but_delivers_once() -> None:
    rng = random.Random(5)
    entry = OutboxEntry("n1", "pd", next_attempt_at=NOW)
    now, sends = NOW, 0
    outcomes = [DOWN] * 6 + [DeliveryResult.success(202)]
    while True:
        plan = plan_delivery(entry, None, now)
        if plan.action is DeliveryAction.finished:
            break
        if plan.action is DeliveryAction.wait:
            now = plan.at
            continue
        entry = after_attempt(entry, outcomes[sends], now, rng)
        sends += 1
    assert sends == 7 and entry.delivered_at is not None and not entry.failed
    assert entry.attempts == 7 and entry.first_attempt_at == NOW
    assert plan_delivery(entry, None, now + timedelta(days=1)).action is DeliveryAction.finished


def test_permanent_failure_and_rate_limit() -> None:
    rng = random.Random(5)
    entry = after_attempt(OutboxEntry("n1", "pd", NOW), DeliveryResult.failure("HTTP 400", status=400, retryable=False), NOW, rng)
    assert entry.failed and entry.last_error == "HTTP 400"
    bucket = TokenBucket.full(rate=1 / 60, burst=1, now=NOW)
    first = plan_delivery(OutboxEntry("a", "slack", NOW), bucket, NOW)
    second = plan_delivery(OutboxEntry("b", "slack", NOW), first.bucket, NOW)
    assert first.action is DeliveryAction.send
    assert second.action is DeliveryAction.wait and second.at == NOW + timedelta(minutes=1)
