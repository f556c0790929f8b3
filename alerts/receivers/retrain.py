"""The retrain webhook: a signed JSON webhook (same HMAC headers as ``webhook``) whose body tells
a retrain pipeline which model to retrain and why (see alerts.retrain_content.retrain_payload).

Its config adds the trigger policy the alert cycle enforces before anything is enqueued
(alerts.retrain): ``cooldown`` per model, ``max_per_day`` in any 24 hours, ``sustained_for``.
Resolved notifications never go to it: ``send_resolved`` is false and cannot be turned on.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from pydantic import Field, model_validator

from alerts.notification import Notification
from alerts.receivers.webhook import WebhookConfig, WebhookReceiver
from alerts.retrain import RetrainPolicy
from alerts.retrain_content import retrain_payload
from config.durations import Duration

__all__ = ["RetrainConfig", "RetrainReceiver"]


class RetrainConfig(WebhookConfig):
    type: Literal["retrain"] = "retrain"  # type: ignore[assignment]
    send_resolved: bool = False
    cooldown: Duration = timedelta(hours=6)
    max_per_day: int = Field(default=3, ge=1, le=1000)
    sustained_for: Duration = timedelta(0)

    @model_validator(mode="after")
    def _never_resolved(self) -> RetrainConfig:
        if self.send_resolved:
            raise ValueError(f"retrain receiver {self.name!r}: send_resolved cannot be true (a resolve never retrains)")
        return self

    @property
    def policy(self) -> RetrainPolicy:
        return RetrainPolicy(self.cooldown, self.max_per_day, self.sustained_for)


class RetrainReceiver(WebhookReceiver):
    kind = "retrain"
    config_type = RetrainConfig  # type: ignore[assignment]  # a narrower config than the webhook's
    config: RetrainConfig

    def payload(self, notification: Notification) -> dict[str, Any]:
        return retrain_payload(notification)
