"""SLO evaluation -> state machine -> inhibition -> routing -> grouping -> render -> receiver,
minute by minute over a simulated outage, delivering to a real loopback webhook."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from alerts.alert import Alert, AlertStatus
from alerts.config import parse_alerting
from alerts.grouping import AggregationGroup, flush, record_sent
from alerts.inhibition import is_inhibited
from alerts.notification import Notification
from alerts.receivers import make_receiver
from alerts.render import page_context, render_page
from alerts.routing import group_key, group_labels, route
from alerts.slo_alerts import alert_for_record, slo_alert_candidates
from alerts.state import AlertRecord, step
from analysis.slo import SliCounts, SloSpec, evaluate_slo
from tests.alerts.conftest import NOW
from tests.alerts.servers import CaptureServer

DAY = 1440


def test_outage_pages_once_and_resolves_once(http_server: CaptureServer) -> None:
    spec = SloSpec(name="availability", kind="availability", objective=0.999, team="payments-ml")
    outage = 2 * DAY
    total = np.full(outage + 90, 100.0)
    bad = np.zeros_like(total)
    bad[outage : outage + 20] = 100.0
    counts = SliCounts.from_total_bad(total, bad)
    config = parse_alerting(
        {"receiver": "hook", "group_by": ["model", "slo", "severity"], "group_wait": "30s", "group_interval": "1m"},
        [{"name": "hook", "type": "webhook", "url": f"{http_server.url}/hook"}],
    )
    tree, receiver = config.tree(), make_receiver(config.receiver("hook"), env={})

    records: dict[str, AlertRecord] = {}
    groups: dict[str, AggregationGroup] = {}
    start = NOW - outage * timedelta(minutes=1)
    for minute in range(outage - 5, outage + 90):
        now = start + timedelta(minutes=minute + 1)
        evaluation = evaluate_slo(spec, counts, minute + 1)
        alerts: list[Alert] = []
        for candidate in slo_alert_candidates(spec, evaluation, "fraud-detector"):
            fp = candidate.labels.fingerprint
            records[fp] = step(records.get(fp, AlertRecord()), candidate.active, now).record
            alert = alert_for_record(candidate, records[fp])
            if alert is not None:
                alerts.append(alert)
        live = [a for a in alerts if not is_inhibited(a, alerts, config.inhibit_rules)]
        by_group: dict[str, list[Alert]] = {}
        for alert in live:
            for node in route(tree, alert.labels):
                key = group_key(node, alert.labels)
                groups.setdefault(key, AggregationGroup(key, node, group_labels(node, alert.labels), now))
                by_group.setdefault(key, []).append(alert)
        for key, members in by_group.items():
            decision = flush(groups[key], members, True, now)
            groups[key] = decision.group
            if decision.send:
                severity = members[0].labels["severity"]
                status = AlertStatus.firing if decision.firing else AlertStatus.resolved
                content = render_page(page_context(evaluation, "fraud-detector", severity, status, now, dashboard_url="http://dash/slo"))
                note = Notification("hook", key, groups[key].labels, decision.firing + decision.resolved, content, now, "http://dash/slo")
                assert receiver.send(note).ok
                groups[key] = record_sent(decision.group, decision.log_entry)

    messages = [r.json() for r in http_server.requests]
    pages = [(m["status"], m["common_labels"]["severity"]) for m in messages if m["common_labels"]["severity"] == "page"]
    assert pages == [("firing", "page"), ("resolved", "page")]
    first = messages[0]
    assert first["title"] == "fraud-detector: SLO availability burning error budget (page)"
    assert "Time to exhaustion" in first["details"] and first["links"] == [{"href": "http://dash/slo", "text": "Dashboard"}]
    # The ticket for the same SLO stayed inhibited while the page fired.
    page_resolved_at = next(i for i, m in enumerate(messages) if m["status"] == "resolved")
    assert all(m["common_labels"]["severity"] == "page" for m in messages[:page_resolved_at])
