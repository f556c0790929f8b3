"""E-mail over SMTP (smtplib): plain-text body from the rendered page content.

SMTP reply codes decide retries: 4xx (and connection problems) are temporary, 5xx permanent.
The password is read from ``password_env`` at send time.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Literal

from pydantic import ConfigDict, Field, model_validator

from alerts.alert import AlertStatus
from alerts.notification import DeliveryResult, Notification
from alerts.receivers.base import ENV_NAME_PATTERN, MissingSecret, Receiver, ReceiverConfig, scrub

__all__ = ["EmailConfig", "EmailReceiver", "email_message"]


class EmailConfig(ReceiverConfig):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    type: Literal["email"] = "email"
    host: str
    port: int = Field(default=587, gt=0, lt=65536)
    sender: str = Field(alias="from", pattern=r"^[^@\s]+@[^@\s]+$")
    to: tuple[str, ...] = Field(min_length=1)
    username: str | None = None
    password_env: str | None = Field(default=None, pattern=ENV_NAME_PATTERN)
    starttls: bool = True
    ssl: bool = False  # implicit TLS (port 465)
    subject_prefix: str = "[modelwatch]"

    @model_validator(mode="after")
    def _check(self) -> EmailConfig:
        if self.ssl and self.starttls:
            raise ValueError("use either ssl (implicit TLS) or starttls, not both")
        if (self.username is None) != (self.password_env is None):
            raise ValueError("username and password_env go together")
        return self


def email_message(notification: Notification, config: EmailConfig) -> EmailMessage:
    """The message for ``notification`` (pure)."""
    content = notification.content
    status = "FIRING" if notification.status is AlertStatus.firing else "RESOLVED"
    message = EmailMessage()
    message["Subject"] = f"{config.subject_prefix} [{status}] {content.title}".strip()
    message["From"] = config.sender
    message["To"] = ", ".join(config.to)
    message["Date"] = format_datetime(notification.created_at)
    message["Message-ID"] = make_msgid(idstring=notification.id, domain="modelwatch")
    message["X-Modelwatch-Dedup-Key"] = notification.dedup_key
    lines = [content.summary, "", content.text]
    if content.links:
        lines += ["", *(f"{link.text}: {link.href}" for link in content.links)]
    message.set_content("\n".join(lines).strip() + "\n")
    return message


class EmailReceiver(Receiver):
    kind = "email"
    config_type = EmailConfig
    config: EmailConfig

    def send(self, notification: Notification) -> DeliveryResult:
        config = self.config
        try:
            password = self._secret(config.password_env) if config.password_env else ""
        except MissingSecret as exc:
            return self._missing(exc)
        message = email_message(notification, config)
        try:
            factory = smtplib.SMTP_SSL if config.ssl else smtplib.SMTP
            with factory(config.host, config.port, timeout=config.timeout_s) as smtp:
                if config.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if config.username:
                    smtp.login(config.username, password)
                refused = smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            return DeliveryResult.failure(f"all recipients refused: {codes}", status=max(codes), retryable=all(400 <= c < 500 for c in codes))
        except smtplib.SMTPResponseException as exc:
            text = scrub(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", password)
            return DeliveryResult.failure(text, status=exc.smtp_code, retryable=400 <= exc.smtp_code < 500)
        except (OSError, smtplib.SMTPException, socket.timeout) as exc:
            return DeliveryResult.failure(scrub(f"{type(exc).__name__}: {exc}", password), retryable=True)
        if refused:
            # Accepted for some recipients: retrying would duplicate their copy, so report it.
            return DeliveryResult.failure(f"refused for {sorted(refused)}", status=250, retryable=False)
        return DeliveryResult.success(250)
