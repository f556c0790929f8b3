"""Every alert candidate gets owner / team / runbook_url annotations in one place (alerts.ownership),
and the rendered pages and tickets show them."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import numpy as np

from alerts.alert import AlertStatus
from alerts.analysis_alerts import finding_candidates
from alerts.cycle_plan import Candidate
from alerts.labels import Labels
from alerts.ownership import ownership_annotations, runbook_links, with_ownership
from alerts.page_content import render_notification
from alerts.render import render_alerts
from alerts.slo_alerts import alert_for_record, slo_alert_candidates
from alerts.state import AlertRecord, AlertState
from analysis.slo import SliCounts, evaluate_slo
from config.loader import parse_monitors
from config.monitors import Monitors
from store.alert_reads import Finding
from tests.alerts.conftest import NOW
from tests.runbooks.conftest import MODEL_OWNER, MODEL_RUNBOOK, SLO_OWNER, SLO_RUNBOOK, TEAM, document


def outage_evaluation(monitors: Monitors, model: str, slo: str):
    spec = next(s for s in monitors.model(model).slos if s.name == slo)
    total = np.full(600, 100.0)
    bad = np.zeros(600)
    bad[-10:] = 100.0
    return spec, evaluate_slo(spec, SliCounts.from_total_bad(total, bad))


def finding(model: str, feature: str = "amount") -> Finding:
    return Finding(model, "v3", "drift", "psi", feature, "", "", 0.31, 0.2, "drift", 5000, NOW - timedelta(hours=1), NOW)


def all_candidates(monitors: Monitors) -> list[Candidate]:
    out = []
    for model, slo in (("fraud", "availability"), ("fraud", "latency"), ("churn", "availability")):
        spec, evaluation = outage_evaluation(monitors, model, slo)
        out += [Candidate(c, "slo", spec.for_) for c in slo_alert_candidates(spec, evaluation, model)]
    teams = {m.name: m.team for m in monitors.models}
    return out + [Candidate(c, "analysis") for c in finding_candidates([finding("fraud"), finding("churn", "tenure")], teams)]


def by_subject(candidates: list[Candidate]) -> dict[tuple[str, str, str], Labels]:
    return {(c.alert.labels["model"], c.alert.labels.get("slo", c.alert.labels.get("feature", "")),
             c.alert.labels["severity"]): c.alert.annotations for c in candidates}


def test_slo_values_win_the_model_fills_the_rest_and_nothing_declared_adds_nothing() -> None:
    monitors = parse_monitors(document())
    before = all_candidates(monitors)
    after = with_ownership(before, monitors)
    annotations = by_subject(after)
    slo_own = {"owner": SLO_OWNER, "team": TEAM, "runbook_url": SLO_RUNBOOK}
    model_own = {"owner": MODEL_OWNER, "team": TEAM, "runbook_url": MODEL_RUNBOOK}
    for severity in ("page", "ticket"):
        assert dict(annotations[("fraud", "availability", severity)].only(slo_own)) == slo_own
        assert dict(annotations[("fraud", "latency", severity)].only(model_own)) == model_own
        assert not {"owner", "team", "runbook_url"} & set(annotations[("churn", "availability", severity)])
    assert dict(annotations[("fraud", "amount", "ticket")].only(model_own)) == model_own  # an analysis finding
    assert not {"owner", "team", "runbook_url"} & set(annotations[("churn", "tenure", "ticket")])
    # What the candidates said before is still there, their identity is unchanged, and so is the rest.
    for old, new in zip(before, after):
        assert new.alert.labels == old.alert.labels and new.alert.labels.fingerprint == old.alert.labels.fingerprint
        assert all(new.alert.annotations[k] == v for k, v in old.alert.annotations.items())
        assert (new.source, new.for_, new.alert.active) == (old.source, old.for_, old.alert.active)


def test_an_annotation_the_candidate_brings_wins() -> None:
    monitors = parse_monitors(document())
    own = Candidate(finding_candidates([finding("fraud")], {"fraud": TEAM})[0], "analysis")
    own = replace(own, alert=replace(own.alert, annotations=own.alert.annotations.merge({"runbook_url": "https://x.example.com/drift"})))
    enriched = with_ownership([own], monitors)[0].alert.annotations
    assert enriched["runbook_url"] == "https://x.example.com/drift" and enriched["owner"] == MODEL_OWNER


def test_ownership_annotations_is_a_function_of_the_labels() -> None:
    monitors = parse_monitors(document())
    assert ownership_annotations(monitors, {"model": "fraud", "slo": "availability"})["runbook_url"] == SLO_RUNBOOK
    assert ownership_annotations(monitors, {"model": "fraud", "alertname": "UnexpectedVersion"}) == {
        "owner": MODEL_OWNER, "team": TEAM, "runbook_url": MODEL_RUNBOOK}
    assert ownership_annotations(monitors, {"model": "churn"}) == {}


def test_the_slo_page_shows_owner_team_and_the_slo_runbook() -> None:
    monitors = parse_monitors(document())
    spec, evaluation = outage_evaluation(monitors, "fraud", "availability")
    candidates = with_ownership([Candidate(c, "slo") for c in slo_alert_candidates(spec, evaluation, "fraud")], monitors)
    page = alert_for_record(candidates[0].alert, AlertRecord(AlertState.firing, NOW, NOW))
    content, _ = render_notification([page], Labels(model="fraud", slo="availability"), {("fraud", "availability"): evaluation},
                                     {}, "http://dash.local", NOW)
    assert content.details["Owner"] == SLO_OWNER and content.details["Team"] == TEAM
    assert [(link.text, link.href) for link in content.links] == [
        ("Dashboard", "http://dash.local/?model=fraud&slo=availability"), ("Runbook", SLO_RUNBOOK)]
    assert f"Owner: {SLO_OWNER}" in content.text and f"Team: {TEAM}" in content.text


def test_a_generic_ticket_shows_owner_team_and_runbook() -> None:
    monitors = parse_monitors(document())
    candidate = with_ownership([Candidate(finding_candidates([finding("fraud")], {"fraud": TEAM})[0], "analysis")], monitors)[0]
    alert = alert_for_record(candidate.alert, AlertRecord(AlertState.firing, NOW, NOW))
    content = render_alerts([alert], Labels(alertname="FeatureDrift", model="fraud"))
    assert dict(content.details) == {"Owner": MODEL_OWNER, "Team": TEAM}
    assert [(link.text, link.href) for link in content.links] == [("Runbook", MODEL_RUNBOOK)]
    assert content.text.splitlines()[-2:] == [f"Owner: {MODEL_OWNER}", f"Team: {TEAM}"]
    resolved = render_alerts([alert.resolve(NOW + timedelta(minutes=5))], Labels(alertname="FeatureDrift"))
    assert resolved.details["Owner"] == MODEL_OWNER  # the resolve says whose it was too


def test_a_ticket_about_several_models_lists_each_owner_and_runbook_once() -> None:
    monitors = parse_monitors(document([*document()["models"], {**document()["models"][0], "name": "fraud-eu",
                                                                 "owner": "@eu-oncall", "runbook_url": "https://wiki.example.com/eu"}]))
    teams = {m.name: m.team for m in monitors.models}
    findings = [finding("fraud"), finding("fraud", "other"), finding("fraud-eu"), finding("churn", "tenure")]
    candidates = with_ownership([Candidate(c, "analysis") for c in finding_candidates(findings, teams)], monitors)
    alerts = [alert_for_record(c.alert, AlertRecord(AlertState.firing, NOW, NOW)) for c in candidates]
    content = render_alerts(alerts, Labels(alertname="FeatureDrift"))
    assert content.details == {"Owner": f"{MODEL_OWNER}, @eu-oncall", "Team": TEAM}
    assert [(link.text, link.href) for link in content.links] == [
        ("Runbook (fraud)", MODEL_RUNBOOK), ("Runbook (fraud-eu)", "https://wiki.example.com/eu")]
    assert all(a.status is AlertStatus.firing for a in alerts)


def test_runbook_links_dedupe_and_name_only_when_several() -> None:
    assert runbook_links([]) == ()
    assert [link.text for link in runbook_links([("https://a", "m"), ("https://a", "m/slo")])] == ["Runbook"]
