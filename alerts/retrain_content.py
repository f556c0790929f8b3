"""What a retrain trigger says, pure: the content stored in the outbox and the JSON body the
retrain webhook receives.

The delivery worker hands receivers the Notification rebuilt from the outbox, so everything the
retrain pipeline needs (trigger id, model and version, the policy figures) travels in the
content's ``details``; ``retrain_payload`` turns it back into typed JSON. Per alert the body
carries its name, feature, metric, value and threshold (annotations of analysis findings), the
SLO for SLO alerts, and since when it fires, so a pipeline can decide what to retrain on.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from alerts.alert import Alert
from alerts.notification import Notification, PageContent
from alerts.retrain import GateDecision, RetrainPolicy
from config.durations import format_duration, parse_duration

__all__ = ["alert_entry", "common_version", "retrain_content", "retrain_payload", "trigger_summary"]

_ALERT_LABELS = ("alertname", "severity", "feature", "metric", "slo", "sli", "slice", "version")


def _number(text: str | None) -> float | None:
    try:
        return None if text is None else float(text)
    except ValueError:
        return None


def alert_entry(alert: Alert, now: datetime) -> dict[str, Any]:
    """One alert as the retrain pipeline sees it (labels it routes on, the statistic, since when)."""
    entry: dict[str, Any] = {name: alert.labels.get(name) or None for name in _ALERT_LABELS}
    entry.update({
        "value": _number(alert.annotations.get("value")),
        "threshold": _number(alert.annotations.get("threshold")),
        "summary": alert.annotations.get("summary"),
        "fingerprint": alert.fingerprint,
        "firing_since": alert.starts_at.isoformat(),
        "firing_for_s": (now - alert.starts_at).total_seconds(),
        "labels": dict(alert.labels),
    })
    return entry


def common_version(alerts: Sequence[Alert]) -> str | None:
    """The model version all ``alerts`` are about, or None when they differ or say none."""
    versions = {a.labels.get("version", "") for a in alerts}
    if len(versions) != 1:
        return None
    return versions.pop() or None


def trigger_summary(model: str, alerts: Sequence[Alert]) -> str:
    """``FeatureDrift on amount, country`` style: what asked for the retrain."""
    parts = sorted({f"{a.labels.get('alertname', '?')} on {a.labels.get('feature') or a.labels.get('slo') or model}" for a in alerts})
    return "; ".join(parts)


def retrain_content(model: str, alerts: Sequence[Alert], decision: GateDecision, trigger_id: int,
                    policy: RetrainPolicy) -> PageContent:
    """The outbox content of a sent trigger (``details`` carry what ``retrain_payload`` needs)."""
    version = common_version(alerts)
    reason = trigger_summary(model, alerts)
    title = f"Retrain {model}" + (f" {version}" if version else "") + f": {reason}"
    lines = [f"- {a.annotations.get('summary') or a.labels.get('alertname', '')}" for a in alerts]
    next_at = decision.next_allowed_at.isoformat()
    details = {
        "trigger_id": str(trigger_id),
        "model": model,
        "version": version or "",
        "cooldown": format_duration(policy.cooldown),
        "max_per_day": str(policy.max_per_day),
        "sent_in_last_24h": str(decision.sent_in_last_24h),
        "next_allowed_at": next_at,
        "sustained_for": format_duration(policy.sustained_for),
    }
    text = (f"Retrain trigger {trigger_id} for {model}: {reason}\n" + "\n".join(lines) +
            f"\nTrigger {decision.sent_in_last_24h} of at most {policy.max_per_day} in 24 h; "
            f"next one possible at {next_at}.")
    return PageContent(title, reason, text, details)


def _seconds(text: str) -> float:
    return parse_duration(text).total_seconds() if text else 0.0


def retrain_payload(notification: Notification) -> dict[str, Any]:
    """The JSON body for the retrain webhook (pure). Raises KeyError/ValueError when the
    notification was not made by ``retrain_content`` (the worker then fails it for good)."""
    details = notification.content.details
    created = notification.created_at
    firing = notification.firing
    return {
        "version": "1",
        "kind": "retrain",
        "trigger_id": int(details["trigger_id"]),
        "receiver": notification.receiver,
        "notification_id": notification.id,
        "created_at": created.isoformat(),
        "model": {"name": details["model"], "version": details["version"] or None},
        "reason": notification.content.summary,
        "alerts": [alert_entry(a, created) for a in firing],
        "cooldown": {
            "cooldown_s": _seconds(details["cooldown"]),
            "max_per_day": int(details["max_per_day"]),
            "sent_in_last_24h": int(details["sent_in_last_24h"]),
            "next_allowed_at": details["next_allowed_at"],
            "sustained_for_s": _seconds(details["sustained_for"]),
        },
        "group_key": notification.group_key,
        "dashboard_url": notification.dashboard_url,
    }
