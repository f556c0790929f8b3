"""Slack incoming webhook: a message with Block Kit blocks and a plain-text fallback.

The webhook URL is itself the credential, so it comes from the environment variable
``webhook_url_env`` and is scrubbed from errors.
"""

from __future__ import annotations

import json
from typing import Literal

from pydantic import Field

from alerts.alert import AlertStatus
from alerts.notification import DeliveryResult, Notification
from alerts.receivers.base import ENV_NAME_PATTERN, MissingSecret, Receiver, ReceiverConfig
from alerts.receivers.http import post

__all__ = ["SlackConfig", "SlackReceiver", "slack_message"]

_SECTION_LIMIT = 3000  # Slack rejects a section text longer than this
_FIELDS_LIMIT = 10  # ...and more than 10 fields in one section
_LISTED_ALERTS = 20  # a group message lists this many alerts, then says how many more


class SlackConfig(ReceiverConfig):
    type: Literal["slack"] = "slack"
    webhook_url_env: str = Field(pattern=ENV_NAME_PATTERN)


def slack_message(notification: Notification) -> dict:
    """The incoming-webhook body for ``notification`` (pure)."""
    content = notification.content
    firing = notification.status is AlertStatus.firing
    marker = ":rotating_light:" if firing else ":white_check_mark:"
    status = "FIRING" if firing else "RESOLVED"
    title = f"{marker} [{status}] {content.title}"
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150], "emoji": True}},
        {"type": "section", "text": {"type": "mrkdwn", "text": content.summary[:_SECTION_LIMIT] or status}},
    ]
    if len(notification.alerts) > 1:
        # The summary of a group only counts its alerts; the reader needs to see which ones.
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _alert_list(notification)}})
    fields = [{"type": "mrkdwn", "text": f"*{k}*\n{v}"[:2000]} for k, v in content.details.items()]
    for start in range(0, len(fields), _FIELDS_LIMIT):
        blocks.append({"type": "section", "fields": fields[start : start + _FIELDS_LIMIT]})
    if content.links:
        links = " | ".join(f"<{link.href}|{link.text}>" for link in content.links)
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": links}]})
    return {"text": f"[{status}] {content.title}", "blocks": blocks}


def _alert_list(notification: Notification) -> str:
    """One line per alert of a group notification (its summary annotation), within Slack's limit."""
    alerts = notification.alerts
    lines = [f"• [{a.status.value}] {a.annotations.get('summary') or a.labels.get('alertname', 'alert')}"
             for a in alerts[:_LISTED_ALERTS]]
    if len(alerts) > _LISTED_ALERTS:
        lines.append(f"… and {len(alerts) - _LISTED_ALERTS} more")
    text = "\n".join(lines)
    return text if len(text) <= _SECTION_LIMIT else text[: _SECTION_LIMIT - 1] + "…"


class SlackReceiver(Receiver):
    kind = "slack"
    config_type = SlackConfig
    config: SlackConfig

    def send(self, notification: Notification) -> DeliveryResult:
        try:
            url = self._secret(self.config.webhook_url_env)
        except MissingSecret as exc:
            return self._missing(exc)
        body = json.dumps(slack_message(notification)).encode()
        client = self._http()
        try:
            return post(client, url, body, {}, self.config.timeout_s, secrets=(url,))
        finally:
            self._close(client)
