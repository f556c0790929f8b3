"""Forward alerts to a Prometheus Alertmanager: ``POST {url}/api/v2/alerts`` (API v2 schema).

Each alert goes with labels, annotations, startsAt, endsAt and generatorURL. A resolved alert's
endsAt is its resolve time. A firing alert's endsAt is ``now + firing_ttl``: Alertmanager
resolves an alert that is not re-sent before its endsAt, so ``firing_ttl`` must exceed the
route's repeat_interval (the default 5 h covers the default 4 h).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Literal

from pydantic import Field

from alerts.notification import DeliveryResult, Notification
from alerts.receivers.base import ENV_NAME_PATTERN, MissingSecret, Receiver, ReceiverConfig
from alerts.receivers.http import post
from config.durations import Duration

__all__ = ["AlertmanagerConfig", "AlertmanagerReceiver", "alertmanager_alerts"]


class AlertmanagerConfig(ReceiverConfig):
    type: Literal["alertmanager"] = "alertmanager"
    url: str = Field(pattern=r"^https?://", description="base URL, e.g. http://alertmanager:9093")
    bearer_token_env: str | None = Field(default=None, pattern=ENV_NAME_PATTERN)
    firing_ttl: Duration = timedelta(hours=5)


def _rfc3339(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def alertmanager_alerts(notification: Notification, now: datetime, firing_ttl: timedelta) -> list[dict]:
    """The API v2 ``postableAlerts`` body (pure)."""
    alerts = []
    for alert in notification.alerts:
        body: dict = {
            "labels": dict(alert.labels),
            "annotations": dict(alert.annotations),
            "startsAt": _rfc3339(alert.starts_at),
            "endsAt": _rfc3339(alert.ends_at if alert.ends_at is not None else now + firing_ttl),
        }
        url = alert.generator_url or notification.dashboard_url
        if url:
            body["generatorURL"] = url
        alerts.append(body)
    return alerts


class AlertmanagerReceiver(Receiver):
    kind = "alertmanager"
    config_type = AlertmanagerConfig
    config: AlertmanagerConfig

    def send(self, notification: Notification) -> DeliveryResult:
        headers: dict[str, str] = {}
        token = ""
        if self.config.bearer_token_env:
            try:
                token = self._secret(self.config.bearer_token_env)
            except MissingSecret as exc:
                return self._missing(exc)
            headers["Authorization"] = f"Bearer {token}"
        now = max(notification.created_at, *(a.starts_at for a in notification.alerts))
        body = json.dumps(alertmanager_alerts(notification, now, self.config.firing_ttl)).encode()
        url = self.config.url.rstrip("/") + "/api/v2/alerts"
        client = self._http()
        try:
            return post(client, url, body, headers, self.config.timeout_s, secrets=(token,))
        finally:
            self._close(client)
