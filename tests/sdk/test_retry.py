from __future__ import annotations

import random

import pytest

from modelwatch.in_memory import InMemoryTransport
from modelwatch.retry import RetryPolicy, backoff_delay, deliver, is_retryable, retry_delay
from modelwatch.transport import TransportResult, parse_retry_after


class FakeSleeper:
    """A clock that only moves when the retry loop sleeps."""

    def __init__(self, shutdown_at: float = float("inf")) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self.shutdown_at = shutdown_at

    def clock(self) -> float:
        return self.now

    def remaining(self, deadline: float) -> float:
        return min(deadline, self.shutdown_at) - self.now

    def sleep(self, seconds: float, deadline: float) -> bool:
        if self.now + seconds > min(deadline, self.shutdown_at):
            return False
        self.sleeps.append(seconds)
        self.now += seconds
        return True

    def give_up_reason(self, deadline: float) -> str:
        return "shutdown" if self.shutdown_at < deadline else "retry_deadline"


def test_full_jitter_backoff_is_capped() -> None:
    policy = RetryPolicy(base=0.5, cap=4.0)
    assert [backoff_delay(a, policy, 0.999999) for a in range(5)] == pytest.approx([0.5, 1.0, 2.0, 4.0, 4.0], rel=1e-5)
    assert backoff_delay(3, policy, 0.0) == 0.0
    assert backoff_delay(10_000, policy, 0.5) == 2.0  # no overflow for huge attempt numbers


def test_retry_after_wins_over_backoff() -> None:
    policy = RetryPolicy()
    assert retry_delay(TransportResult(503, retry_after=7.0), 0, policy, 0.5) == 7.0
    assert retry_delay(TransportResult(503), 1, policy, 0.5) == 0.5


@pytest.mark.parametrize(("status", "retry"), [(None, True), (429, True), (502, True), (503, True), (504, True),
                                               (500, True), (501, False), (400, False), (401, False), (413, False), (422, False)])
def test_which_statuses_retry(status: int | None, retry: bool) -> None:
    assert is_retryable(TransportResult(status)) is retry


def test_deliver_retries_same_bytes_until_success() -> None:
    transport = InMemoryTransport()
    transport.fail_next(2, 503, retry_after=1.5)
    transport.fail_next(1, None)
    sleeper = FakeSleeper()
    delivery = deliver(transport, "/v1/labels", b'{"batch_id":"b1","records":[]}', RetryPolicy(base=1, cap=8), sleeper, random.Random(1), sleeper.clock)
    assert delivery.ok and delivery.attempts == 4
    assert [r.body for r in transport.requests] == [b'{"batch_id":"b1","records":[]}'] * 4
    assert sleeper.sleeps[:2] == [1.5, 1.5]  # Retry-After honoured
    assert 0 <= sleeper.sleeps[2] <= 4.0  # then jittered backoff (attempt 2: up to 4 s)


def test_deliver_rejects_without_retry() -> None:
    transport = InMemoryTransport()
    transport.fail_next(1, 422)
    sleeper = FakeSleeper()
    delivery = deliver(transport, "/v1/labels", b"{}", RetryPolicy(), sleeper, random.Random(1), sleeper.clock)
    assert (delivery.ok, delivery.attempts, delivery.reason) == (False, 1, "rejected_422")


def test_deliver_gives_up_at_the_deadline() -> None:
    transport = InMemoryTransport()
    transport.fail_next(1000, 503)
    sleeper = FakeSleeper()
    delivery = deliver(transport, "/v1/labels", b"{}", RetryPolicy(base=1, cap=4, deadline=30), sleeper, random.Random(2), sleeper.clock)
    assert not delivery.ok and delivery.reason == "retry_deadline"
    assert sleeper.now <= 30
    assert delivery.attempts == len(transport.requests) > 3


def test_retry_after_beyond_the_deadline_gives_up_at_once() -> None:
    transport = InMemoryTransport()
    transport.fail_next(1, 503, retry_after=120)
    sleeper = FakeSleeper()
    delivery = deliver(transport, "/v1/labels", b"{}", RetryPolicy(deadline=60), sleeper, random.Random(1), sleeper.clock)
    assert (delivery.reason, delivery.attempts, sleeper.now) == ("retry_deadline", 1, 0.0)


def test_shutdown_deadline_ends_retries() -> None:
    transport = InMemoryTransport()
    transport.fail_next(1000, 503, retry_after=1.0)
    sleeper = FakeSleeper(shutdown_at=2.5)
    delivery = deliver(transport, "/v1/labels", b"{}", RetryPolicy(deadline=60), sleeper, random.Random(1), sleeper.clock)
    assert (delivery.reason, delivery.attempts) == ("shutdown", 3)


def test_parse_retry_after() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("-4") == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == pytest.approx(10.0)
