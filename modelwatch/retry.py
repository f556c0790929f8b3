"""Retries: which outcomes to retry, how long to wait, and the delivery loop itself.

Exponential backoff with full jitter (``uniform(0, min(cap, base * 2**attempt))``) until a
per-batch deadline, only on 429/502/503/504 and connection errors, honouring Retry-After. The
wait goes through a ``Sleeper`` owned by the worker, so ``close()`` can cut it short.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from modelwatch.transport import Transport, TransportResult

__all__ = ["RETRYABLE_STATUSES", "Delivery", "RetryPolicy", "Sleeper", "backoff_delay", "deliver", "is_retryable", "retry_delay"]

# 500 is retried too: batches are idempotent (batch id + prediction ids), so a retry after a
# transient server error can never duplicate, and giving up would lose data (DESIGN.md: 5xx).
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff base and cap (seconds), the per-batch retry deadline and the per-request timeout."""

    base: float = 0.5
    cap: float = 30.0
    deadline: float = 60.0
    request_timeout: float = 10.0

    def __post_init__(self) -> None:
        for name in ("base", "cap", "deadline", "request_timeout"):
            value = getattr(self, name)
            if not value > 0:
                raise ValueError(f"retry {name} must be positive, got {value!r}")


@dataclass(frozen=True)
class Delivery:
    """Outcome of delivering one batch: ``reason`` says why it was given up (a drop reason)."""

    ok: bool
    attempts: int
    result: TransportResult | None = None
    reason: str | None = None


class Sleeper(Protocol):
    def remaining(self, deadline: float) -> float:
        """Return the seconds left before ``deadline`` or the shutdown deadline, whichever is first."""

    def sleep(self, seconds: float, deadline: float) -> bool:
        """Wait ``seconds``; return False (without waiting) when that would pass a deadline."""

    def give_up_reason(self, deadline: float) -> str:
        """Return ``shutdown`` when the shutdown deadline ended the retries, else ``retry_deadline``."""


def is_retryable(result: TransportResult) -> bool:
    """Return True for a connection error or a 429/502/503/504 response."""
    return result.status is None or result.status in RETRYABLE_STATUSES


def backoff_delay(attempt: int, policy: RetryPolicy, uniform01: float) -> float:
    """Return the full-jitter delay before retry number ``attempt`` (0-based), given a uniform
    random number in [0, 1): ``uniform01 * min(cap, base * 2**attempt)``."""
    return uniform01 * min(policy.cap, policy.base * (2.0 ** min(attempt, 62)))


def retry_delay(result: TransportResult, attempt: int, policy: RetryPolicy, uniform01: float) -> float:
    """Return the wait before the next try: the server's Retry-After when given, else backoff."""
    if result.retry_after is not None:
        return result.retry_after
    return backoff_delay(attempt, policy, uniform01)


def deliver(
    transport: Transport,
    path: str,
    body: bytes,
    policy: RetryPolicy,
    sleeper: Sleeper,
    rng: random.Random,
    clock: Callable[[], float] = time.monotonic,
) -> Delivery:
    """Send ``body`` until it is acknowledged, rejected, or the deadline passes; return the outcome.

    The same bytes (hence the same batch id) are sent on every try. A non-retryable status gives
    ``reason="rejected_<status>"``; running out of time gives ``retry_deadline`` or ``shutdown``.
    """
    deadline = clock() + policy.deadline
    attempts = 0
    result: TransportResult | None = None
    while True:
        remaining = sleeper.remaining(deadline)
        if remaining <= 0:
            return Delivery(False, attempts, result, sleeper.give_up_reason(deadline))
        result = transport.send(path, body, min(policy.request_timeout, remaining))
        attempts += 1
        if result.ok:
            return Delivery(True, attempts, result)
        if not is_retryable(result):
            return Delivery(False, attempts, result, f"rejected_{result.status}")
        if not sleeper.sleep(retry_delay(result, attempts - 1, policy, rng.random()), deadline):
            return Delivery(False, attempts, result, sleeper.give_up_reason(deadline))
