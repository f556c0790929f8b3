"""Receivers, one module per channel behind ``Receiver.send(notification) -> DeliveryResult``.

``RECEIVERS`` maps each config ``type`` to its class; ``make_receiver`` builds one from a parsed
config (see alerts.config.ReceiverSpec).
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from alerts.receivers.alertmanager import AlertmanagerConfig, AlertmanagerReceiver
from alerts.receivers.base import MissingSecret, Receiver, ReceiverConfig
from alerts.receivers.email import EmailConfig, EmailReceiver
from alerts.receivers.pagerduty import PagerDutyConfig, PagerDutyReceiver
from alerts.receivers.retrain import RetrainConfig, RetrainReceiver
from alerts.receivers.slack import SlackConfig, SlackReceiver
from alerts.receivers.webhook import WebhookConfig, WebhookReceiver

__all__ = [
    "RECEIVERS",
    "AlertmanagerConfig",
    "AlertmanagerReceiver",
    "EmailConfig",
    "EmailReceiver",
    "MissingSecret",
    "PagerDutyConfig",
    "PagerDutyReceiver",
    "Receiver",
    "ReceiverConfig",
    "RetrainConfig",
    "RetrainReceiver",
    "SlackConfig",
    "SlackReceiver",
    "WebhookConfig",
    "WebhookReceiver",
    "make_receiver",
]

RECEIVERS: dict[str, type[Receiver]] = {
    cls.kind: cls for cls in (PagerDutyReceiver, SlackReceiver, WebhookReceiver, AlertmanagerReceiver, EmailReceiver,
                              RetrainReceiver)
}


def make_receiver(config: ReceiverConfig, env: Mapping[str, str] | None = None, client: httpx.Client | None = None) -> Receiver:
    """Return the receiver for ``config`` (its ``type`` picks the class)."""
    kind = getattr(config, "type", None)
    if kind not in RECEIVERS:
        raise ValueError(f"unknown receiver type {kind!r}; known: {sorted(RECEIVERS)}")
    return RECEIVERS[kind](config, env=env, client=client)
