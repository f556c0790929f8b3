"""Alert records, aggregation groups and silences as stored rows (inside the cycle's transaction)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alerts.cycle_plan import GroupRow, StoredAlert
from alerts.grouping import NotificationLogEntry
from alerts.labels import Labels
from alerts.matchers import Matcher
from alerts.notification import Notification
from alerts.payload import notification_payload
from alerts.silences import Silence
from alerts.state import AlertRecord, AlertState
from store import schema_alerts as t
from store.upsert import upsert

__all__ = ["enqueue", "load_alerts", "load_groups", "load_silences", "save_alerts", "save_groups", "silence_from_row"]


def load_alerts(conn: Connection) -> dict[str, StoredAlert]:
    """Every alert not inactive (inactive ones step exactly like unknown ones)."""
    a = t.alerts
    rows = conn.execute(sa.select(a).where(a.c.state != AlertState.inactive.value))
    return {
        row.fingerprint: StoredAlert(
            Labels(row.labels), Labels(row.annotations), row.source,
            AlertRecord(AlertState(row.state), row.active_since, row.fired_at, row.resolved_at),
            tuple(row.silenced_by or ()), bool(row.inhibited),
        )
        for row in rows
    }


def save_alerts(conn: Connection, alerts: Mapping[str, StoredAlert], now: datetime) -> None:
    rows = [
        {
            "fingerprint": fp, "alertname": s.labels.get("alertname", ""), "model": s.labels.get("model", ""),
            "source": s.source, "labels": dict(s.labels), "annotations": dict(s.annotations),
            "state": s.record.state.value, "active_since": s.record.active_since, "fired_at": s.record.fired_at,
            "resolved_at": s.record.resolved_at, "last_evaluated_at": now, "silenced_by": list(s.silenced_by) or None,
            "inhibited": s.inhibited,
        }
        for fp, s in sorted(alerts.items())
    ]
    upsert(conn, t.alerts, rows, ("fingerprint",))


def _fingerprints(value: list[str] | None) -> frozenset[str]:
    return frozenset(value or ())


def load_groups(conn: Connection) -> dict[str, GroupRow]:
    g = t.alert_groups
    out: dict[str, GroupRow] = {}
    for row in conn.execute(sa.select(g)):
        log = None
        if row.log_sent_at is not None:
            log = NotificationLogEntry(_fingerprints(row.log_firing), _fingerprints(row.log_resolved), row.log_sent_at)
        out[row.group_key] = GroupRow(row.group_key, row.receiver, Labels(row.labels), row.created_at,
                                      row.last_flush_at, log, row.sequence, row.closed_at)
    return out


def save_groups(conn: Connection, groups: Iterable[GroupRow]) -> None:
    rows = [
        {
            "group_key": g.key, "receiver": g.receiver, "labels": dict(g.labels), "created_at": g.created_at,
            "last_flush_at": g.last_flush_at,
            "log_firing": sorted(g.log.firing) if g.log else None,
            "log_resolved": sorted(g.log.resolved) if g.log else None,
            "log_sent_at": g.log.sent_at if g.log else None,
            "sequence": g.sequence, "closed_at": g.closed_at,
        }
        for g in groups
    ]
    upsert(conn, t.alert_groups, rows, ("group_key",))


def enqueue(conn: Connection, notification: Notification, sequence: int, now: datetime) -> None:
    """Insert one outbox row. A second insert of the same (dedup_key, sequence) raises
    IntegrityError: the caller's whole cycle transaction rolls back, so nothing is sent twice."""
    conn.execute(t.notifications.insert().values(
        notification_id=notification.id, receiver=notification.receiver, group_key=notification.group_key,
        dedup_key=notification.dedup_key, sequence=sequence, kind=notification.status.value,
        payload=notification_payload(notification), status="pending", attempts=0, next_attempt_at=now,
        created_at=now,
    ))


def silence_from_row(row: sa.Row) -> Silence:
    return Silence(
        id=row.id, matchers=tuple(Matcher.model_validate(m) for m in row.matchers), starts_at=row.starts_at,
        ends_at=row.ends_at, created_by=row.author, comment=row.comment,
    )


def load_silences(conn: Connection, now: datetime) -> list[Silence]:
    """Silences that have not ended (active or pending) at ``now``."""
    s = t.silences
    return [silence_from_row(row) for row in conn.execute(sa.select(s).where(s.c.ends_at > now))]
