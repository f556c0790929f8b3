"""Page rendering, SLO alert labels and the typed alerting config."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from pydantic import ValidationError

from alerts.alert import Alert, AlertStatus
from alerts.config import parse_alerting
from alerts.labels import Labels
from alerts.receivers import EmailConfig, PagerDutyConfig
from alerts.render import render_alerts
from alerts.slo_alerts import SLO_ALERTNAME, alert_for_record, slo_alert_candidates, slo_alert_labels
from alerts.state import AlertRecord, AlertState
from analysis.slo import SliCounts, SloSpec, evaluate_slo
from tests.alerts.conftest import NOW, make_notification


def test_page_content_carries_what_on_call_needs() -> None:
    content = make_notification().content
    assert content.title == "fraud-detector v7: SLO availability burning error budget (page)"
    assert dict(content.details) == {
        "SLO": "availability (availability) objective 99.9 %",
        "Burn rate": "33.3x over 1h (threshold 14.4x), 1000.0x over 5m (threshold 14.4x)",
        "Budget left": "42.0 %",
        "Time to exhaustion": "1d6h",
        "Worst slices": "country=BR: 120.0x (5,400 events)",
        "Recent deploys": "v7 20m ago (new threshold)",
    }
    assert [link.text for link in content.links] == ["Dashboard", "Runbook"]
    assert "Budget left: 42.0 %" in content.text
    resolved = make_notification(AlertStatus.resolved).content
    assert "resolved" in resolved.title and "Time to exhaustion" not in resolved.details


def test_generic_alert_content() -> None:
    alerts = [Alert(Labels(alertname="FeatureDrift", model="m", feature="amount"), NOW, Labels(summary="PSI 0.31 on amount"))]
    content = render_alerts(alerts, Labels(alertname="FeatureDrift", model="m"))
    assert content.title == "FeatureDrift firing: model=m" and content.summary == "[firing] PSI 0.31 on amount"


def test_slo_alert_labels_and_candidates() -> None:
    spec = SloSpec(name="availability", kind="availability", objective=0.999, team="payments-ml", labels={"tier": "gold", "slo": "spoofed"})
    labels = slo_alert_labels(spec, "fraud-detector", "page", version="v7", slice="country=BR")
    assert labels == {
        "alertname": SLO_ALERTNAME, "model": "fraud-detector", "version": "v7", "slo": "availability", "sli": "availability",
        "kind": "slo", "severity": "page", "team": "payments-ml", "slice": "country=BR", "tier": "gold",
    }
    # The team falls back to the SLO's team label, then to the model's, so team routes match.
    bare = SloSpec(name="availability", kind="availability", objective=0.999)
    assert slo_alert_labels(bare, "fraud-detector", "page", model_team="payments-ml")["team"] == "payments-ml"
    assert "team" not in slo_alert_labels(bare, "fraud-detector", "page")  # empty labels are dropped
    labelled = SloSpec(name="availability", kind="availability", objective=0.999, labels={"team": "risk"})
    assert slo_alert_labels(labelled, "fraud-detector", "page", model_team="payments-ml")["team"] == "risk"
    total = np.full(600, 100.0)
    bad = np.zeros(600)
    bad[-10:] = 100
    evaluation = evaluate_slo(spec, SliCounts.from_total_bad(total, bad))
    page, ticket = slo_alert_candidates(spec, evaluation, "fraud-detector")
    assert (page.labels["severity"], page.active) == ("page", True)
    assert ticket.labels["severity"] == "ticket"
    firing = alert_for_record(page, AlertRecord(AlertState.firing, NOW, NOW))
    assert firing is not None and firing.status is AlertStatus.firing and firing.starts_at == NOW
    resolved = alert_for_record(page, AlertRecord(AlertState.resolved, NOW, NOW, NOW + timedelta(minutes=5)))
    assert resolved.ends_at == NOW + timedelta(minutes=5)
    assert alert_for_record(page, AlertRecord(AlertState.pending, NOW)) is None


def test_alerting_config_parses_monitors_sections() -> None:
    config = parse_alerting(
        {
            "receiver": "oncall",
            "group_by": ["model", "slo"],
            "routes": [{"matchers": ['severity="ticket"'], "receiver": "mail", "repeat_interval": "1d"}],
        },
        [
            {"name": "oncall", "type": "pagerduty", "routing_key_env": "PD_ROUTING_KEY"},
            {"name": "mail", "type": "email", "host": "smtp.local", "from": "mw@example.org", "to": ["ml@example.org"]},
        ],
    )
    assert isinstance(config.receiver("oncall"), PagerDutyConfig)
    assert isinstance(config.receiver("mail"), EmailConfig)
    assert config.tree().routes[0].repeat_interval == timedelta(days=1)
    assert len(config.inhibit_rules) == 1  # a page inhibits the ticket of the same SLO by default


@pytest.mark.parametrize(
    ("routes", "receivers", "message"),
    [
        ({"receiver": "nobody"}, [{"name": "a", "type": "slack", "webhook_url_env": "X"}], "unknown receivers: nobody"),
        ({"receiver": "a"}, [{"name": "a", "type": "carrier-pigeon"}], "does not match any of the expected tags"),
        ({"receiver": "a"}, [{"name": "a", "type": "pagerduty", "routing_key": "inline-secret"}], "Extra inputs"),
        ({"receiver": "a"}, [{"name": "a", "type": "pagerduty", "routing_key_env": "not a var"}], "pattern"),
        ({"receiver": "a"}, [{"name": "a", "type": "slack", "webhook_url_env": "X"}] * 2, "duplicate receiver names"),
    ],
)
def test_alerting_config_errors(routes: dict, receivers: list, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_alerting(routes, receivers)
