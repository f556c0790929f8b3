"""Dashboard reads of SLO status and burndown, alerts and the notification delivery log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from store import schema_alerts as t

__all__ = [
    "AlertRow", "Attempt", "BurndownPoint", "Delivery", "SloStatus", "alert_rows", "delivery_attempts",
    "delivery_log", "open_alert_counts", "slo_history", "slo_statuses",
]


@dataclass(frozen=True)
class SloStatus:
    """The latest evaluation of one SLO (see store.schema_alerts.slo_status)."""

    model: str
    slo: str
    kind: str
    objective: float
    state: str
    sli: float | None
    events_total: float
    events_bad: float
    budget_remaining: float | None
    current_burn: float | None
    time_to_exhaustion_s: float | None
    label_coverage: float | None
    burn_rates: dict[str, float | None]
    rules: tuple[dict[str, Any], ...]  # name, severity, threshold, state, long_burn, short_burn, ...
    firing_severities: tuple[str, ...]
    window_end: datetime
    evaluated_at: datetime


def slo_statuses(engine: Engine, models: Sequence[str] | None = None) -> list[SloStatus]:
    """Every SLO's latest status (of ``models`` when given), by model and SLO."""
    s = t.slo_status
    query = sa.select(s).order_by(s.c.model, s.c.slo)
    if models is not None:
        query = query.where(s.c.model.in_(list(models)))
    with engine.connect() as conn:
        return [SloStatus(r.model, r.slo, r.kind, r.objective, r.state, r.sli, r.events_total, r.events_bad,
                          r.budget_remaining, r.current_burn, r.time_to_exhaustion_s, r.label_coverage,
                          dict(r.burn_rates or {}), tuple(r.rules or ()),
                          tuple(x for x in r.firing_severities.split(",") if x), r.window_end, r.evaluated_at)
                for r in conn.execute(query)]


@dataclass(frozen=True)
class BurndownPoint:
    hour: datetime
    state: str
    sli: float | None
    budget_remaining: float | None
    current_burn: float | None


def slo_history(engine: Engine, model: str, start: datetime, end: datetime) -> dict[str, list[BurndownPoint]]:
    """Hourly burndown points of each of ``model``'s SLOs in ``[start, end)``, oldest first."""
    h = t.slo_status_history
    query = (sa.select(h).where(h.c.model == model, h.c.hour >= start, h.c.hour < end).order_by(h.c.slo, h.c.hour))
    out: dict[str, list[BurndownPoint]] = {}
    with engine.connect() as conn:
        for r in conn.execute(query):
            out.setdefault(r.slo, []).append(BurndownPoint(r.hour, r.state, r.sli, r.budget_remaining, r.current_burn))
    return out


@dataclass(frozen=True)
class AlertRow:
    fingerprint: str
    alertname: str
    model: str
    source: str  # slo | analysis
    severity: str
    labels: dict[str, str]
    annotations: dict[str, str]
    state: str  # pending | firing | resolved | inactive
    active_since: datetime | None
    fired_at: datetime | None
    resolved_at: datetime | None
    last_evaluated_at: datetime
    silenced: bool
    inhibited: bool


def alert_rows(engine: Engine, model: str | None = None) -> list[AlertRow]:
    """Alerts that are or were active (not inactive), firing first, then newest."""
    a = t.alerts
    order = sa.case((a.c.state == "firing", 0), (a.c.state == "pending", 1), else_=2)
    query = sa.select(a).where(a.c.state != "inactive").order_by(order, a.c.last_evaluated_at.desc(), a.c.fingerprint)
    if model is not None:
        query = query.where(a.c.model == model)
    with engine.connect() as conn:
        return [AlertRow(r.fingerprint, r.alertname, r.model, r.source, str((r.labels or {}).get("severity", "")),
                         dict(r.labels or {}), dict(r.annotations or {}), r.state, r.active_since, r.fired_at,
                         r.resolved_at, r.last_evaluated_at, bool(r.silenced_by), bool(r.inhibited))
                for r in conn.execute(query)]


def open_alert_counts(engine: Engine, models: Sequence[str]) -> dict[str, dict[str, int]]:
    """``model -> severity -> firing alerts`` (silenced and inhibited ones included: they are open)."""
    a = t.alerts
    query = sa.select(a.c.model, a.c.labels).where(a.c.model.in_(list(models)), a.c.state == "firing")
    out: dict[str, dict[str, int]] = {}
    with engine.connect() as conn:
        for model, labels in conn.execute(query):
            severity = str((labels or {}).get("severity", "none"))
            counts = out.setdefault(model, {})
            counts[severity] = counts.get(severity, 0) + 1
    return out


@dataclass(frozen=True)
class Delivery:
    """One outbox message to one receiver, with where its delivery stands."""

    id: int
    receiver: str
    kind: str  # firing | resolved
    status: str  # pending | sent | failed
    attempts: int
    title: str
    models: tuple[str, ...]
    alertnames: tuple[str, ...]
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime
    last_status: int | None
    last_error: str | None


def delivery_log(engine: Engine, start: datetime, end: datetime, model: str | None = None,
                 limit: int = 500) -> list[Delivery]:
    """Notifications created in ``[start, end)`` (about ``model`` when given), newest first."""
    n = t.notifications
    query = (sa.select(n).where(n.c.created_at >= start, n.c.created_at < end)
             .order_by(n.c.created_at.desc(), n.c.id.desc()).limit(limit))
    out = []
    with engine.connect() as conn:
        for r in conn.execute(query):
            payload = r.payload or {}
            alerts = payload.get("alerts") or []
            models = tuple(sorted({str(a.get("labels", {}).get("model", "")) for a in alerts} - {""}))
            if model is not None and model not in models:
                continue
            names = tuple(sorted({str(a.get("labels", {}).get("alertname", "")) for a in alerts} - {""}))
            out.append(Delivery(r.id, r.receiver, r.kind, r.status, r.attempts,
                                str((payload.get("content") or {}).get("title", "")), models, names, r.created_at,
                                r.sent_at, r.next_attempt_at, r.last_status, r.last_error))
    return out


@dataclass(frozen=True)
class Attempt:
    notification: int
    attempt: int
    at: datetime
    ok: bool
    status: int | None
    error: str | None
    duration_ms: float
    worker: str


def delivery_attempts(engine: Engine, notification_ids: Sequence[int]) -> list[Attempt]:
    """Every send attempt of these notifications, in order."""
    if not notification_ids:
        return []
    d = t.delivery_attempts
    query = (sa.select(d).where(d.c.notification.in_(list(notification_ids))).order_by(d.c.notification, d.c.attempt))
    with engine.connect() as conn:
        return [Attempt(r.notification, r.attempt, r.at, r.ok, r.status, r.error, r.duration_ms, r.worker)
                for r in conn.execute(query)]
