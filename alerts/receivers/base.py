"""The receiver interface: one small base class, one module per channel kind with a typed config.

Secrets (routing keys, webhook URLs, HMAC secrets, SMTP passwords) are named by environment
variable in the config and read from ``env`` at send time: never stored on the receiver, never
in a repr, and scrubbed from any error text a library might echo back.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import ClassVar

import httpx
from pydantic import BaseModel, ConfigDict, Field

from alerts.notification import DeliveryResult, Notification

__all__ = ["ENV_NAME_PATTERN", "MissingSecret", "Receiver", "ReceiverConfig"]

ENV_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
_RECEIVER_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$"


class ReceiverConfig(BaseModel):
    """Settings every receiver has; each kind adds its own fields and a ``type`` literal."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=_RECEIVER_NAME)
    send_resolved: bool = True
    timeout_s: float = Field(default=10.0, gt=0.0, le=300.0)
    # Per-receiver rate limit for the delivery worker (alerts.retry.TokenBucket); None: unlimited.
    rate_limit_per_minute: float | None = Field(default=None, gt=0.0)
    rate_limit_burst: int = Field(default=10, ge=1)


class MissingSecret(LookupError):
    """The environment variable a config names is not set (the message names the variable only)."""


class Receiver(ABC):
    """Delivers notifications to one channel. ``send`` never raises for delivery problems: it
    returns a DeliveryResult saying whether to retry."""

    kind: ClassVar[str]
    config_type: ClassVar[type[ReceiverConfig]]

    def __init__(self, config: ReceiverConfig, env: Mapping[str, str] | None = None, client: httpx.Client | None = None) -> None:
        if not isinstance(config, self.config_type):
            raise TypeError(f"{type(self).__name__} needs a {self.config_type.__name__}, got {type(config).__name__}")
        self.config = config
        self._env = os.environ if env is None else env
        self._client = client

    @property
    def name(self) -> str:
        return self.config.name

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.config.name!r})"

    @abstractmethod
    def send(self, notification: Notification) -> DeliveryResult:
        """Deliver one notification; return the outcome (never raises for delivery failures)."""

    def _secret(self, env_name: str) -> str:
        value = self._env.get(env_name)
        if not value:
            raise MissingSecret(f"environment variable {env_name} named by receiver {self.name!r} is not set")
        return value

    def _missing(self, exc: MissingSecret) -> DeliveryResult:
        # Retryable: the operator can set the variable and the page still goes out.
        return DeliveryResult.failure(str(exc), retryable=True)

    def _http(self) -> httpx.Client:
        return self._client if self._client is not None else httpx.Client(timeout=self.config.timeout_s)

    def _close(self, client: httpx.Client) -> None:
        if client is not self._client:
            client.close()


def scrub(text: str, *secrets: str) -> str:
    """Return ``text`` with every non-empty secret replaced by ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
