"""Generic JSON webhook, signed with HMAC-SHA256.

Headers: ``X-Modelwatch-Timestamp: <unix seconds>`` and
``X-Modelwatch-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>``. Signing the
timestamp with the body lets the receiver reject replays (``verify_signature`` with a tolerance).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Literal

from pydantic import Field

from alerts.notification import DeliveryResult, Notification
from alerts.receivers.base import ENV_NAME_PATTERN, MissingSecret, Receiver, ReceiverConfig
from alerts.receivers.http import post

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "WebhookConfig",
    "WebhookReceiver",
    "sign",
    "verify_signature",
    "webhook_payload",
]

SIGNATURE_HEADER = "X-Modelwatch-Signature"
TIMESTAMP_HEADER = "X-Modelwatch-Timestamp"


class WebhookConfig(ReceiverConfig):
    type: Literal["webhook"] = "webhook"
    url: str = Field(pattern=r"^https?://")
    secret_env: str | None = Field(default=None, pattern=ENV_NAME_PATTERN)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """Return ``sha256=<hex>`` of HMAC-SHA256(secret, ``f"{timestamp}." + body``)."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(secret: str, timestamp: str, body: bytes, signature: str, now: float, tolerance_s: float = 300.0) -> bool:
    """True when ``signature`` is ours for (timestamp, body) and the timestamp is within tolerance."""
    if not timestamp.isdigit() or abs(now - int(timestamp)) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature)


def webhook_payload(notification: Notification) -> dict:
    """The JSON body (pure): Alertmanager-webhook-like, plus the rendered content."""
    content = notification.content
    return {
        "version": "1",
        "receiver": notification.receiver,
        "status": notification.status.value,
        "group_key": notification.group_key,
        "dedup_key": notification.dedup_key,
        "notification_id": notification.id,
        "group_labels": dict(notification.group_labels),
        "common_labels": dict(notification.common_labels),
        "title": content.title,
        "summary": content.summary,
        "details": dict(content.details),
        "links": [{"href": link.href, "text": link.text} for link in content.links],
        "dashboard_url": notification.dashboard_url,
        "alerts": [
            {
                "status": a.status.value,
                "fingerprint": a.fingerprint,
                "labels": dict(a.labels),
                "annotations": dict(a.annotations),
                "starts_at": a.starts_at.isoformat(),
                "ends_at": a.ends_at.isoformat() if a.ends_at else None,
            }
            for a in notification.alerts
        ],
    }


class WebhookReceiver(Receiver):
    kind = "webhook"
    config_type = WebhookConfig
    config: WebhookConfig
    clock: Callable[[], float] = staticmethod(time.time)  # type: ignore[assignment]

    def payload(self, notification: Notification) -> dict:
        """The JSON body (a subclass, e.g. the retrain receiver, sends its own shape)."""
        return webhook_payload(notification)

    def send(self, notification: Notification) -> DeliveryResult:
        body = json.dumps(self.payload(notification), separators=(",", ":")).encode()
        headers: dict[str, str] = {}
        secret = ""
        if self.config.secret_env:
            try:
                secret = self._secret(self.config.secret_env)
            except MissingSecret as exc:
                return self._missing(exc)
            timestamp = int(self.clock())
            headers = {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: sign(secret, timestamp, body)}
        client = self._http()
        try:
            return post(client, self.config.url, body, headers, self.config.timeout_s, secrets=(secret,))
        finally:
            self._close(client)
