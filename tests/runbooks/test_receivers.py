"""Owner, team and runbook reach every receiver where its users look, end to end: counters of an
outage and a drift finding in a real database -> alert cycle -> outbox -> delivery worker ->
PagerDuty, Slack, webhook and Alertmanager API v2 receivers on a loopback HTTP server and e-mail
on a loopback SMTP server; then the same alerts through a real Alertmanager."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import pytest
from sqlalchemy.engine import Engine

from alerts.alert import Alert
from alerts.cycle_plan import Candidate
from alerts.labels import Labels
from alerts.notification import Notification
from alerts.ownership import with_ownership
from alerts.page_content import render_notification
from alerts.persist import load_alerts
from alerts.receivers import AlertmanagerConfig, make_receiver
from alerts.slo_alerts import slo_alert_candidates
from config.loader import parse_monitors
from config.monitors import Monitors
from store import schema
from store.upsert import insert_or_ignore
from tests.alerts.servers import CaptureServer, Captured, SmtpServer
from tests.alerts.test_alertmanager_real import alertmanager  # noqa: F401 -- the real-Alertmanager fixture
from tests.alerts_io.conftest import MINUTE, T0, Harness
from tests.alerts_io.streams import write_counters
from tests.runbooks.conftest import MODEL_OWNER, MODEL_RUNBOOK, SLO_OWNER, SLO_RUNBOOK, TEAM, churn_model, document, fraud_model
from tests.runbooks.test_enrichment import outage_evaluation

HISTORY = 8 * 60  # healthy minutes before the outage
OUTAGE = 20


def receivers_monitors(http: CaptureServer, smtp: SmtpServer) -> Monitors:
    """Every alert to every receiver kind (pages also to PagerDuty, tickets also to Slack)."""
    everyone = [{"receiver": name, "continue": True} for name in ("alertmanager", "email")] + [{"receiver": "webhook"}]
    return parse_monitors(document(
        dashboard_url="http://dashboard.local",
        routes={"receiver": "webhook", "group_by": ["model", "slo", "severity", "alertname"], "group_wait": "30s",
                "group_interval": "1m", "repeat_interval": "4h",
                "routes": [{"receiver": "pagerduty", "matchers": ['severity="page"'], "continue": True},
                           {"receiver": "slack", "matchers": ['severity="ticket"'], "continue": True}, *everyone]},
        receivers=[
            {"name": "pagerduty", "type": "pagerduty", "routing_key_env": "PD_KEY", "url": f"{http.url}/v2/enqueue", "timeout_s": 2},
            {"name": "slack", "type": "slack", "webhook_url_env": "SLACK_URL", "timeout_s": 2},
            {"name": "webhook", "type": "webhook", "url": f"{http.url}/hook", "timeout_s": 2},
            {"name": "alertmanager", "type": "alertmanager", "url": http.url, "timeout_s": 2},
            {"name": "email", "type": "email", "host": "127.0.0.1", "port": smtp.port, "from": "modelwatch@example.com",
             "to": ["oncall@example.com"], "starttls": False, "timeout_s": 2},
        ],
    ))


def drift_window(engine: Engine, end: datetime) -> None:
    row = {"model": "fraud", "version": "v3", "window_start": end - 60 * MINUTE, "window_end": end, "slice_key": "",
           "slice_value": "", "kind": "drift", "metric": "psi", "feature": "amount", "value": 0.31, "threshold": 0.2,
           "status": "drift", "n": 5000, "details": None, "computed_at": end}
    with engine.begin() as conn:
        insert_or_ignore(conn, schema.analysis_results, [row])


@pytest.fixture
def delivered(engine: Engine, http_server: CaptureServer, smtp_server: SmtpServer) -> tuple[Harness, list[Captured]]:
    """Both models go down for 20 minutes and fraud's ``amount`` drifts; cycles and deliveries
    run until the pages and tickets are out."""
    requests = np.full(HISTORY + OUTAGE + 10, 100.0)
    errors = np.zeros_like(requests)
    errors[HISTORY:HISTORY + OUTAGE] = 100.0
    for model in ("fraud", "churn"):
        write_counters(engine, model, T0, requests, errors)
    drift_window(engine, T0 + HISTORY * MINUTE)
    h = Harness(engine, receivers_monitors(http_server, smtp_server), http_server, http_server)
    h.run(range(HISTORY - 2, HISTORY + 5))
    return h, list(http_server.requests)


def owned(annotations: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in annotations.items() if k in ("owner", "team", "runbook_url")}


def posted(requests: list[Captured], path: str) -> list[Any]:
    return [r.json() for r in requests if r.path == path]


def test_pagerduty_links_the_runbook_and_names_owner_and_team(delivered: tuple[Harness, list[Captured]]) -> None:
    _, requests = delivered
    events = {e["payload"]["source"]: e for e in posted(requests, "/v2/enqueue") if e["event_action"] == "trigger"}
    assert set(events) == {"fraud", "churn"}
    fraud = events["fraud"]
    assert {"href": SLO_RUNBOOK, "text": "Runbook"} in fraud["links"]  # the SLO's own runbook, not the model's
    details = fraud["payload"]["custom_details"]
    assert (details["Owner"], details["Team"]) == (SLO_OWNER, TEAM)
    # churn declares nothing: no runbook link, no owner
    churn = events["churn"]
    assert [link["text"] for link in churn["links"]] == ["Dashboard"]
    assert "Owner" not in churn["payload"]["custom_details"] and "Team" not in churn["payload"]["custom_details"]


def test_slack_shows_a_runbook_link_and_the_owner(delivered: tuple[Harness, list[Captured]]) -> None:
    _, requests = delivered
    (ticket,) = [m for m in posted(requests, "/slack") if "FeatureDrift" in m["text"]]
    fields = [f["text"] for block in ticket["blocks"] if block["type"] == "section" for f in block.get("fields", [])]
    assert f"*Owner*\n{MODEL_OWNER}" in fields and f"*Team*\n{TEAM}" in fields
    context = [e["text"] for block in ticket["blocks"] if block["type"] == "context" for e in block["elements"]]
    assert any(f"<{MODEL_RUNBOOK}|Runbook>" in text for text in context)


def test_webhook_and_alertmanager_carry_the_annotations(delivered: tuple[Harness, list[Captured]]) -> None:
    _, requests = delivered
    hooks = posted(requests, "/hook")
    by_alert = {(a["labels"]["model"], a["labels"]["alertname"]): a["annotations"] for m in hooks for a in m["alerts"]}
    assert owned(by_alert[("fraud", "SLOBurnRate")]) == {"owner": SLO_OWNER, "team": TEAM, "runbook_url": SLO_RUNBOOK}
    assert owned(by_alert[("fraud", "FeatureDrift")]) == {"owner": MODEL_OWNER, "team": TEAM, "runbook_url": MODEL_RUNBOOK}
    assert owned(by_alert[("churn", "SLOBurnRate")]) == {}
    assert by_alert[("fraud", "FeatureDrift")]["summary"].startswith("drift on amount")  # next to what was there
    page = next(m for m in hooks if m["common_labels"].get("slo") == "availability" and m["common_labels"]["model"] == "fraud")
    assert {"href": SLO_RUNBOOK, "text": "Runbook"} in page["links"] and page["details"]["Owner"] == SLO_OWNER

    am = [a for batch in posted(requests, "/api/v2/alerts") for a in batch]
    drift = next(a for a in am if a["labels"]["alertname"] == "FeatureDrift")
    assert (drift["annotations"]["runbook_url"], drift["annotations"]["owner"]) == (MODEL_RUNBOOK, MODEL_OWNER)
    slo = next(a for a in am if a["labels"]["model"] == "fraud" and a["labels"]["alertname"] == "SLOBurnRate")
    assert (slo["annotations"]["runbook_url"], slo["annotations"]["owner"]) == (SLO_RUNBOOK, SLO_OWNER)


def test_email_body_names_owner_team_and_runbook(delivered: tuple[Harness, list[Captured]], smtp_server: SmtpServer) -> None:
    messages = [mail.message() for mail in smtp_server.mails]
    page = next(m for m in messages if "fraud: SLO availability" in m["Subject"])
    body = page.get_content()
    assert f"Owner: {SLO_OWNER}" in body and f"Team: {TEAM}" in body and f"Runbook: {SLO_RUNBOOK}" in body
    drift = next(m for m in messages if "FeatureDrift" in m["Subject"] and "fraud" in m["Subject"])
    assert f"Owner: {MODEL_OWNER}" in drift.get_content() and f"Runbook: {MODEL_RUNBOOK}" in drift.get_content()


def test_stored_alerts_keep_their_ownership(delivered: tuple[Harness, list[Captured]]) -> None:
    h, _ = delivered
    with h.engine.connect() as conn:
        stored = load_alerts(conn).values()
    annotations = {(a.labels["model"], a.labels["alertname"], a.labels["severity"]): a.annotations for a in stored}
    assert annotations[("fraud", "SLOBurnRate", "page")]["runbook_url"] == SLO_RUNBOOK
    assert annotations[("fraud", "FeatureDrift", "ticket")]["owner"] == MODEL_OWNER
    assert "owner" not in annotations[("churn", "SLOBurnRate", "page")]


@pytest.mark.alertmanager
def test_a_real_alertmanager_forwards_runbook_and_owner(alertmanager: str, http_server: CaptureServer) -> None:  # noqa: F811
    monitors = parse_monitors(document([fraud_model(), churn_model()]))
    spec, evaluation = outage_evaluation(monitors, "fraud", "availability")
    (page, _ticket) = with_ownership([Candidate(c, "slo") for c in slo_alert_candidates(spec, evaluation, "fraud")], monitors)
    now = datetime.now(timezone.utc)  # Alertmanager judges startsAt/endsAt against its own clock
    alert = Alert(page.alert.labels, now - timedelta(minutes=1), page.alert.annotations)
    content, link = render_notification([alert], Labels(slo="availability"), {("fraud", "availability"): evaluation}, {}, None, now)
    notification = Notification("am", "key", Labels(slo="availability"), (alert,), content, now, link)
    assert make_receiver(AlertmanagerConfig(name="am", url=alertmanager), env={}).send(notification).ok
    (forwarded,) = http_server.wait_for(1, timeout=15)[:1]
    (received,) = forwarded.json()["alerts"]
    assert received["annotations"]["runbook_url"] == SLO_RUNBOOK
    assert (received["annotations"]["owner"], received["annotations"]["team"]) == (SLO_OWNER, TEAM)
