"""POST a JSON body and turn the response (or the failure to get one) into a DeliveryResult.

Retryable: connection errors, timeouts, 408, 425, 429 and 5xx. Permanent: other 4xx (the payload
or the credentials are wrong; retrying would not help). ``Retry-After`` is read as seconds or an
HTTP date.
"""

from __future__ import annotations

import email.utils
from collections.abc import Mapping
from datetime import datetime, timezone

import httpx

from alerts.notification import DeliveryResult
from alerts.receivers.base import scrub

__all__ = ["parse_retry_after", "post"]

_RETRYABLE_STATUS = {408, 425, 429}


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None if absent/bad."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max((when - (now or datetime.now(timezone.utc))).total_seconds(), 0.0)


def post(client: httpx.Client, url: str, content: bytes, headers: Mapping[str, str], timeout_s: float, secrets: tuple[str, ...] = ()) -> DeliveryResult:
    """POST ``content`` (JSON bytes) and classify the outcome; ``secrets`` are scrubbed from errors."""
    try:
        response = client.post(url, content=content, headers={"Content-Type": "application/json", **headers}, timeout=timeout_s)
    except httpx.TimeoutException as exc:
        return DeliveryResult.failure(scrub(f"timeout: {type(exc).__name__}", *secrets), retryable=True)
    except httpx.TransportError as exc:
        return DeliveryResult.failure(scrub(f"{type(exc).__name__}: {exc}", *secrets), retryable=True)
    status = response.status_code
    if 200 <= status < 300:
        return DeliveryResult.success(status)
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    body = scrub(response.text[:300], *secrets)
    retryable = status in _RETRYABLE_STATUS or status >= 500
    return DeliveryResult.failure(f"HTTP {status}: {body}", status=status, retryable=retryable, retry_after=retry_after)
