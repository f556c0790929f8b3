"""Notifications as JSON for the outbox, and back: what the delivery worker hands a receiver.

The payload holds what was decided and rendered at enqueue time (alerts, labels, content), never
a secret: receivers read routing keys, webhook URLs and passwords from the environment at send
time. Round trip is exact: ``notification_from_payload(notification_payload(n)) == n``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from alerts.alert import Alert
from alerts.labels import Labels
from alerts.notification import Link, Notification, PageContent

__all__ = ["notification_from_payload", "notification_payload"]


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def notification_payload(notification: Notification) -> dict[str, Any]:
    """A JSON-ready dict of ``notification`` (times as ISO 8601 with offset)."""
    content = notification.content
    return {
        "receiver": notification.receiver,
        "group_key": notification.group_key,
        "group_labels": dict(notification.group_labels),
        "created_at": _time(notification.created_at),
        "dashboard_url": notification.dashboard_url,
        "content": {
            "title": content.title,
            "summary": content.summary,
            "text": content.text,
            # A list keeps the order of the details (JSONB would sort an object's keys).
            "details": [[k, v] for k, v in content.details.items()],
            "links": [[link.href, link.text] for link in content.links],
        },
        "alerts": [
            {
                "labels": dict(a.labels),
                "annotations": dict(a.annotations),
                "starts_at": _time(a.starts_at),
                "ends_at": _time(a.ends_at),
                "generator_url": a.generator_url,
            }
            for a in notification.alerts
        ],
    }


def notification_from_payload(payload: dict[str, Any]) -> Notification:
    """The Notification stored by ``notification_payload``; raises KeyError/ValueError if malformed."""
    content = payload["content"]
    alerts = tuple(
        Alert(
            labels=Labels(a["labels"]),
            starts_at=_parse(a["starts_at"]),  # type: ignore[arg-type]
            annotations=Labels(a["annotations"]),
            ends_at=_parse(a["ends_at"]),
            generator_url=a.get("generator_url"),
        )
        for a in payload["alerts"]
    )
    return Notification(
        receiver=payload["receiver"],
        group_key=payload["group_key"],
        group_labels=Labels(payload["group_labels"]),
        alerts=alerts,
        content=PageContent(
            title=content["title"],
            summary=content["summary"],
            text=content["text"],
            details={k: v for k, v in content["details"]},
            links=tuple(Link(href, text) for href, text in content["links"]),
        ),
        created_at=_parse(payload["created_at"]),  # type: ignore[arg-type]
        dashboard_url=payload.get("dashboard_url"),
    )
