"""Receivers against real servers on loopback: exact payloads, schemas, retries, secrets."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime, timedelta

import httpx
import pytest

from alerts.alert import AlertStatus
from alerts.labels import Labels
from alerts.notification import Notification
from alerts.receivers import (
    AlertmanagerConfig,
    EmailConfig,
    PagerDutyConfig,
    Receiver,
    SlackConfig,
    WebhookConfig,
    make_receiver,
)
from alerts.receivers.http import parse_retry_after
from alerts.receivers.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, verify_signature
from tests.alerts.conftest import NOW, make_notification
from tests.alerts.servers import CaptureServer, SmtpServer

PD_KEY = "R0UT1NGKEYsecret0000000000000000"
HMAC_SECRET = "hmac-secret-value"
TOKEN = "am-bearer-token"


def env_for(server_url: str) -> dict[str, str]:
    return {"PD_KEY": PD_KEY, "SLACK_URL": f"{server_url}/services/T000/B000/XXXX", "HOOK_SECRET": HMAC_SECRET, "AM_TOKEN": TOKEN, "SMTP_PASSWORD": "pw"}


def http_configs(url: str) -> list:
    return [
        PagerDutyConfig(name="pd", routing_key_env="PD_KEY", url=f"{url}/v2/enqueue"),
        SlackConfig(name="slack", webhook_url_env="SLACK_URL"),
        WebhookConfig(name="hook", url=f"{url}/hook", secret_env="HOOK_SECRET"),
        AlertmanagerConfig(name="am", url=url, bearer_token_env="AM_TOKEN"),
    ]


# --- conformance: every HTTP receiver -------------------------------------------------------


@pytest.mark.parametrize("index", range(4), ids=["pagerduty", "slack", "webhook", "alertmanager"])
def test_every_http_receiver_delivers_and_classifies_failures(index: int, http_server: CaptureServer, firing: Notification, closed_port: int) -> None:
    config = http_configs(http_server.url)[index]
    receiver = make_receiver(config, env=env_for(http_server.url))
    assert receiver.send(firing).ok
    assert len(http_server.requests) == 1
    assert http_server.requests[0].headers["Content-Type"] == "application/json"

    http_server.reply(429, b"slow down", {"Retry-After": "7"})
    limited = receiver.send(firing)
    assert (limited.ok, limited.status, limited.retryable, limited.retry_after) == (False, 429, True, 7.0)

    http_server.reply(503, b"maintenance")
    assert receiver.send(firing).retryable
    http_server.reply(400, b"invalid event")
    rejected = receiver.send(firing)
    assert rejected.status == 400 and not rejected.retryable and "invalid event" in rejected.error

    # Receiver down: connection refused is a retryable failure, never an exception.
    down = make_receiver(http_configs(f"http://127.0.0.1:{closed_port}")[index], env=env_for(f"http://127.0.0.1:{closed_port}"))
    result = down.send(firing)
    assert not result.ok and result.retryable and "ConnectError" in result.error


@pytest.mark.parametrize("index", range(4), ids=["pagerduty", "slack", "webhook", "alertmanager"])
def test_secrets_never_leak_into_reprs_or_errors(index: int, http_server: CaptureServer, firing: Notification) -> None:
    env = env_for(http_server.url)
    config = http_configs(http_server.url)[index]
    receiver = make_receiver(config, env=env)
    secret = [PD_KEY, env["SLACK_URL"], HMAC_SECRET, TOKEN][index]
    http_server.reply(500, f"bad request {secret}".encode())  # a server echoing the secret back
    result = receiver.send(firing)
    assert result.error == "HTTP 500: bad request ***"
    for text in (repr(receiver), repr(config), str(config.model_dump()), result.error):
        assert secret not in text, text
    missing = make_receiver(config, env={}).send(firing)
    if index != 2 or config.secret_env:
        assert not missing.ok and missing.retryable and "is not set" in missing.error


# --- PagerDuty Events API v2 ----------------------------------------------------------------


def test_pagerduty_trigger_and_resolve_share_a_dedup_key(http_server: CaptureServer, firing: Notification, resolved: Notification) -> None:
    http_server.default.status, http_server.default.body = 202, b'{"status":"success"}'
    receiver = make_receiver(http_configs(http_server.url)[0], env=env_for(http_server.url))
    assert receiver.send(firing).status == 202
    assert receiver.send(resolved).ok
    trigger, resolve = (r.json() for r in http_server.requests)
    assert http_server.requests[0].path == "/v2/enqueue"
    assert trigger["routing_key"] == PD_KEY
    assert trigger["event_action"] == "trigger"
    assert trigger["dedup_key"] == resolve["dedup_key"] == firing.dedup_key
    assert len(trigger["dedup_key"]) <= 255
    payload = trigger["payload"]
    assert payload["summary"] == "fraud-detector v7: SLO availability burning error budget (page)"
    assert payload["source"] == "fraud-detector"
    assert payload["severity"] == "critical"
    assert (payload["component"], payload["group"], payload["class"]) == ("availability", "payments-ml", "slo")
    assert datetime.fromisoformat(payload["timestamp"]) == NOW - timedelta(minutes=3)
    details = payload["custom_details"]
    assert details["Burn rate"].startswith("33.3x over 1h (threshold 14.4x)")
    assert details["Budget left"] == "42.0 %" and details["Time to exhaustion"] == "1d6h"
    assert {"href": "http://dashboard.local/slo/availability", "text": "Dashboard"} in trigger["links"]
    assert resolve == {"routing_key": PD_KEY, "event_action": "resolve", "dedup_key": firing.dedup_key}


@pytest.mark.parametrize(("severity", "expected"), [("page", "critical"), ("ticket", "warning"), ("info", "info"), ("error", "error"), ("odd", "error")])
def test_pagerduty_severity_mapping(severity: str, expected: str, http_server: CaptureServer) -> None:
    receiver = make_receiver(http_configs(http_server.url)[0], env=env_for(http_server.url))
    receiver.send(make_notification(severity=severity))
    assert http_server.requests[-1].json()["payload"]["severity"] == expected


# --- Slack ----------------------------------------------------------------------------------


def test_slack_blocks(http_server: CaptureServer, firing: Notification, resolved: Notification) -> None:
    receiver = make_receiver(http_configs(http_server.url)[1], env=env_for(http_server.url))
    assert receiver.send(firing).ok and receiver.send(resolved).ok
    request = http_server.requests[0]
    assert request.path == "/services/T000/B000/XXXX"
    body = request.json()
    assert body["text"].startswith("[FIRING] fraud-detector v7")
    kinds = [block["type"] for block in body["blocks"]]
    assert kinds == ["header", "section", "section", "context"]
    fields = body["blocks"][2]["fields"]
    assert any(f["text"].startswith("*Worst slices*\ncountry=BR: 120.0x") for f in fields)
    assert "<http://dashboard.local/slo/availability|Dashboard>" in body["blocks"][3]["elements"][0]["text"]
    assert http_server.requests[1].json()["text"].startswith("[RESOLVED]")


def test_slack_group_message_lists_each_alert(http_server: CaptureServer, firing: Notification) -> None:
    second = replace(firing.alerts[0], labels=Labels({**firing.alerts[0].labels, "slo": "latency"}),
                     annotations=Labels({"summary": "latency SLO burning 20x"}))
    group = replace(firing, alerts=(*firing.alerts, second))
    receiver = make_receiver(http_configs(http_server.url)[1], env=env_for(http_server.url))
    assert receiver.send(group).ok
    listed = [b["text"]["text"] for b in http_server.requests[0].json()["blocks"] if b["type"] == "section" and "text" in b][1]
    assert listed.splitlines()[1] == "• [firing] latency SLO burning 20x" and listed.startswith("• [firing] ")


# --- signed webhook -------------------------------------------------------------------------


def test_webhook_signature_verifies(http_server: CaptureServer, firing: Notification) -> None:
    receiver = make_receiver(http_configs(http_server.url)[2], env=env_for(http_server.url))
    assert receiver.send(firing).ok
    request = http_server.requests[0]
    timestamp, signature = request.headers[TIMESTAMP_HEADER], request.headers[SIGNATURE_HEADER]
    assert signature == sign(HMAC_SECRET, int(timestamp), request.body)
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    assert verify_signature(HMAC_SECRET, timestamp, request.body, signature, now=time.time())
    assert not verify_signature("wrong", timestamp, request.body, signature, now=time.time())
    assert not verify_signature(HMAC_SECRET, timestamp, request.body + b" ", signature, now=time.time())
    assert not verify_signature(HMAC_SECRET, timestamp, request.body, signature, now=time.time() + 3600)
    body = request.json()
    assert body["status"] == "firing" and body["dedup_key"] == firing.dedup_key
    assert body["alerts"][0]["labels"]["slo"] == "availability"
    assert body["alerts"][0]["fingerprint"] == firing.alerts[0].fingerprint


def test_unsigned_webhook(http_server: CaptureServer, firing: Notification) -> None:
    receiver = make_receiver(WebhookConfig(name="plain", url=f"{http_server.url}/hook"), env={})
    assert receiver.send(firing).ok
    assert SIGNATURE_HEADER not in http_server.requests[0].headers


# --- Alertmanager API v2 --------------------------------------------------------------------


def _rfc3339(text: str) -> datetime:
    assert text.endswith("Z")
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_alertmanager_v2_alert_schema(http_server: CaptureServer, firing: Notification, resolved: Notification) -> None:
    receiver = make_receiver(http_configs(http_server.url)[3], env=env_for(http_server.url))
    assert receiver.send(firing).ok and receiver.send(resolved).ok
    request = http_server.requests[0]
    assert request.path == "/api/v2/alerts"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    (alert,) = request.json()
    assert set(alert) == {"labels", "annotations", "startsAt", "endsAt", "generatorURL"}
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in alert["labels"].items())
    assert alert["labels"]["alertname"] == "SLOBurnRate" and alert["labels"]["severity"] == "page"
    assert _rfc3339(alert["startsAt"]) == NOW - timedelta(minutes=3)
    assert _rfc3339(alert["endsAt"]) == NOW + timedelta(hours=5)  # firing: now + firing_ttl
    assert alert["generatorURL"] == "http://dashboard.local/slo/availability"
    (ended,) = http_server.requests[1].json()
    assert _rfc3339(ended["endsAt"]) == NOW


# --- e-mail ---------------------------------------------------------------------------------


def email_config(port: int, **overrides: object) -> EmailConfig:
    values = {"name": "mail", "host": "127.0.0.1", "port": port, "from": "modelwatch@example.org", "to": ["oncall@example.org", "ml@example.org"], "starttls": False}
    return EmailConfig.model_validate({**values, **overrides})


def test_email_over_smtp(smtp_server: SmtpServer, firing: Notification) -> None:
    receiver = make_receiver(email_config(smtp_server.port), env={})
    assert receiver.send(firing).ok
    (mail,) = smtp_server.mails
    assert mail.sender == "modelwatch@example.org"
    assert mail.recipients == ["oncall@example.org", "ml@example.org"]
    message = mail.message()
    assert message["Subject"] == "[modelwatch] [FIRING] fraud-detector v7: SLO availability burning error budget (page)"
    assert message["X-Modelwatch-Dedup-Key"].strip() == firing.dedup_key  # folded: 64 hex digits
    body = message.get_content()
    assert "Budget left: 42.0 %" in body and "Dashboard: http://dashboard.local/slo/availability" in body


def test_email_failures_are_classified(smtp_server: SmtpServer, firing: Notification, closed_port: int) -> None:
    receiver = make_receiver(email_config(smtp_server.port), env={})
    smtp_server.data_reply = "451 try again later"
    temporary = receiver.send(firing)
    assert (temporary.ok, temporary.status, temporary.retryable) == (False, 451, True)
    smtp_server.data_reply, smtp_server.rcpt_reply = "250 OK", "550 no such user"
    refused = receiver.send(firing)
    assert (refused.ok, refused.status, refused.retryable) == (False, 550, False)
    down = make_receiver(email_config(closed_port), env={}).send(firing)
    assert not down.ok and down.retryable
    missing = make_receiver(email_config(smtp_server.port, username="u", password_env="SMTP_PASSWORD"), env={}).send(firing)
    assert not missing.ok and "SMTP_PASSWORD" in missing.error


# --- helpers --------------------------------------------------------------------------------


def test_retry_after_parsing() -> None:
    now = datetime(2025, 3, 1, 12, 0, 0, tzinfo=NOW.tzinfo)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Sat, 01 Mar 2025 12:00:30 GMT", now) == 30.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_receiver_rejects_a_foreign_config() -> None:
    from alerts.receivers import SlackReceiver

    with pytest.raises(TypeError, match="SlackConfig"):
        SlackReceiver(PagerDutyConfig(name="pd", routing_key_env="X"))


def test_a_shared_client_is_used_and_not_closed(http_server: CaptureServer, firing: Notification) -> None:
    with httpx.Client() as client:
        receiver: Receiver = make_receiver(http_configs(http_server.url)[2], env=env_for(http_server.url), client=client)
        assert receiver.send(firing).ok and receiver.send(firing).ok
        assert not client.is_closed
    assert len(http_server.requests) == 2


def test_resolved_status_drives_notifications() -> None:
    assert make_notification(AlertStatus.resolved).status is AlertStatus.resolved
