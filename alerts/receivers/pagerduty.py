"""PagerDuty Events API v2: trigger while the group fires, resolve when it has resolved.

The dedup_key is the notification's (SHA-256 of receiver and group key), so every re-send of a
group updates one incident and the resolve closes it. The routing key is read from the
environment variable ``routing_key_env`` at send time.
"""

from __future__ import annotations

import json
from typing import Literal

from pydantic import Field

from alerts.alert import AlertStatus
from alerts.notification import DeliveryResult, Notification
from alerts.receivers.base import ENV_NAME_PATTERN, MissingSecret, Receiver, ReceiverConfig
from alerts.receivers.http import post

__all__ = ["DEFAULT_SEVERITY_MAP", "PagerDutyConfig", "PagerDutyReceiver", "pagerduty_event"]

PagerDutySeverity = Literal["critical", "error", "warning", "info"]
DEFAULT_SEVERITY_MAP: dict[str, PagerDutySeverity] = {
    "page": "critical",
    "critical": "critical",
    "error": "error",
    "ticket": "warning",
    "warning": "warning",
    "info": "info",
}


class PagerDutyConfig(ReceiverConfig):
    type: Literal["pagerduty"] = "pagerduty"
    routing_key_env: str = Field(pattern=ENV_NAME_PATTERN)
    url: str = "https://events.pagerduty.com/v2/enqueue"
    source: str = "modelwatch"
    severity_map: dict[str, PagerDutySeverity] = Field(default_factory=lambda: dict(DEFAULT_SEVERITY_MAP))
    default_severity: PagerDutySeverity = "error"


def pagerduty_event(notification: Notification, config: PagerDutyConfig, routing_key: str) -> dict:
    """The Events API v2 body for ``notification`` (pure)."""
    action = "trigger" if notification.status is AlertStatus.firing else "resolve"
    event: dict = {"routing_key": routing_key, "event_action": action, "dedup_key": notification.dedup_key}
    if action == "resolve":
        return event
    labels = notification.common_labels
    severity = config.severity_map.get(labels.get("severity", ""), config.default_severity)
    content = notification.content
    payload = {
        "summary": content.title[:1024],
        "source": labels.get("model") or config.source,
        "severity": severity,
        "timestamp": min(a.starts_at for a in notification.firing).isoformat(),
        "custom_details": {
            "summary": content.summary,
            **content.details,
            "firing": len(notification.firing),
            "resolved": len(notification.resolved),
            "group": dict(notification.group_labels),
        },
    }
    for key, label in (("component", "slo"), ("group", "team"), ("class", "kind")):
        if labels.get(label):
            payload[key] = labels[label]
    event["payload"] = payload
    event["client"] = "modelwatch"
    if notification.dashboard_url:
        event["client_url"] = notification.dashboard_url
    event["links"] = [{"href": link.href, "text": link.text} for link in content.links]
    return event


class PagerDutyReceiver(Receiver):
    kind = "pagerduty"
    config_type = PagerDutyConfig
    config: PagerDutyConfig

    def send(self, notification: Notification) -> DeliveryResult:
        try:
            key = self._secret(self.config.routing_key_env)
        except MissingSecret as exc:
            return self._missing(exc)
        body = json.dumps(pagerduty_event(notification, self.config, key)).encode()
        client = self._http()
        try:
            return post(client, self.config.url, body, {}, self.config.timeout_s, secrets=(key,))
        finally:
            self._close(client)
