"""The retrain gate's shell: inside the alert cycle's transaction, turn one outgoing notification
to a retrain receiver into a trigger (outbox row + retrain_triggers row + audit entry, all
committed together) or a recorded hold (cooldown / capped), using alerts.retrain's decision.

Only alerts firing for at least the receiver's ``sustained_for`` count; a notification with none
(a resolve, or drift that has not lasted yet) enqueues and records nothing. Because the cycle
holds the alert-cycle lock, two schedulers never both see "no trigger yet" and both send.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from sqlalchemy.engine import Connection

from alerts.cycle_plan import Outgoing
from alerts.notification import Notification, PageContent
from alerts.page_content import dashboard_link
from alerts.persist import enqueue
from alerts.receivers.retrain import RetrainConfig
from alerts.retrain import PastTrigger, TriggerStatus, decide, history_start, sustained
from alerts.retrain_content import alert_entry, common_version, retrain_content
from store import audit
from store.retrain_reads import insert_trigger, trigger_history

__all__ = ["AUDIT_ACTION", "enqueue_retrain"]

logger = logging.getLogger("modelwatch.alerts")
AUDIT_ACTION = "retrain.trigger"


def enqueue_retrain(conn: Connection, out: Outgoing, config: RetrainConfig, dashboard_url: str | None,
                    now: datetime) -> int:
    """Gate ``out`` (a notification to retrain receiver ``config``); returns 1 if enqueued, else 0."""
    policy = config.policy
    alerts = sustained(out.alerts, now, policy.sustained_for)
    if not alerts:
        return 0
    model = out.group.labels.get("model", "")
    past = [PastTrigger(r.time, TriggerStatus(r.status), r.group_key)
            for r in trigger_history(conn, config.name, model, history_start(now, policy))]
    decision = decide(past, out.group.key, now, policy)
    names = [a.labels.get("alertname", "") for a in alerts]
    details = {
        "version": common_version(alerts), "alerts": [alert_entry(a, now) for a in alerts],
        "sent_in_last_24h": decision.sent_in_last_24h,
        "next_allowed_at": decision.next_allowed_at.isoformat(),
    }
    if decision.status is not TriggerStatus.sent:
        if decision.record:
            insert_trigger(conn, now, model, config.name, out.group.key, names, decision.status.value, details)
            logger.info("retrain of %s via %s held back (%s) until %s", model, config.name, decision.status.value,
                        details["next_allowed_at"])
        return 0
    # The message id and dedup key depend on receiver, group, alerts and time, not on the content,
    # so the trigger row can name its outbox row before the content (which names the trigger) exists.
    notification = Notification(config.name, out.group.key, out.group.labels, alerts, PageContent("", "", ""), now,
                                dashboard_link(dashboard_url, model))
    details.update(notification_id=notification.id, dedup_key=notification.dedup_key, sequence=out.sequence)
    trigger_id = insert_trigger(conn, now, model, config.name, out.group.key, names, TriggerStatus.sent.value, details)
    audit.record(conn, audit.process_actor("alert-cycle"), AUDIT_ACTION, f"model:{model}", {
        "trigger_id": trigger_id, "receiver": config.name, "alertnames": sorted(set(names)),
        "version": details["version"], "notification_id": notification.id,
        "sent_in_last_24h": decision.sent_in_last_24h, "next_allowed_at": details["next_allowed_at"],
    }, now=now)
    enqueue(conn, replace(notification, content=retrain_content(model, alerts, decision, trigger_id, policy)),
            out.sequence, now)
    logger.info("retrain of %s triggered via %s (trigger %d)", model, config.name, trigger_id)
    return 1
