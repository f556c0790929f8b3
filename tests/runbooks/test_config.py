"""runbook_url must be an http(s) URL; an SLO's owner/team/runbook win over its model's, and
each value it leaves unset falls back to the model's."""

from __future__ import annotations

import pytest

from config.loader import ConfigError, load_monitors, parse_monitors
from config.ownership import Ownership, alert_ownership, ownership_for_labels, ownership_of
from tests.conftest import REPO_ROOT
from tests.runbooks.conftest import MODEL_OWNER, MODEL_RUNBOOK, SLO_OWNER, SLO_RUNBOOK, TEAM, document, fraud_model

BAD_URLS = ["wiki/runbooks/fraud", "ftp://files.example.com/runbook", "https://", "javascript:alert(1)",
            "http://wiki.example.com/run book", "mailto:oncall@example.com"]


@pytest.mark.parametrize("url", BAD_URLS)
def test_a_runbook_url_that_is_not_http_is_an_error_at_its_path(url: str) -> None:
    model = fraud_model(runbook_url=url)
    model["slos"][0]["runbook_url"] = url
    with pytest.raises(ConfigError) as caught:
        parse_monitors(document([model]))
    issues = {issue.path: issue.message for issue in caught.value.issues}
    assert set(issues) == {"models[0].runbook_url", "models[0].slos[0].runbook_url"}
    assert all("absolute http(s) URL" in m and repr(url) in m for m in issues.values())


@pytest.mark.parametrize("url", ["http://wiki.local/r", "https://wiki.example.com/runbooks/fraud#page",
                                 "https://runbooks.example.com:8443/x?id=3"])
def test_http_and_https_runbook_urls_are_kept_as_written(url: str) -> None:
    monitors = parse_monitors(document([fraud_model(runbook_url=url)]))
    assert monitors.models[0].runbook_url == url


def test_slo_values_win_and_unset_ones_fall_back_to_the_model() -> None:
    model = parse_monitors(document()).model("fraud")
    assert ownership_of(model) == Ownership(MODEL_OWNER, TEAM, MODEL_RUNBOOK)
    # availability overrides owner and runbook; its team is the model's
    assert ownership_of(model, "availability") == Ownership(SLO_OWNER, TEAM, SLO_RUNBOOK)
    # latency declares nothing: everything is the model's; a spec works like its name
    assert ownership_of(model, model.slos[1]) == ownership_of(model, "latency") == ownership_of(model)
    # an SLO the model does not declare: the model's
    assert ownership_of(model, "no-such-slo") == ownership_of(model)


def test_an_slo_team_from_its_own_field_or_its_labels_wins() -> None:
    fraud = fraud_model()
    fraud["slos"][0]["team"] = "sre"
    fraud["slos"][1]["labels"] = {"team": "latency-squad"}
    model = parse_monitors(document([fraud])).model("fraud")
    assert ownership_of(model, "availability").team == "sre"
    assert ownership_of(model, "latency").team == "latency-squad"


def test_nothing_declared_gives_nothing() -> None:
    monitors = parse_monitors(document())
    churn = ownership_for_labels(monitors, {"model": "churn", "slo": "availability"})
    assert churn == Ownership() and not churn.declared and churn.annotations() == {}
    assert ownership_for_labels(monitors, {"model": "unknown"}) == Ownership()
    assert ownership_for_labels(monitors, {"alertname": "Watchdog"}) == Ownership()


def test_labels_resolve_to_the_slo_or_the_model() -> None:
    monitors = parse_monitors(document())
    assert ownership_for_labels(monitors, {"model": "fraud", "slo": "availability"}).runbook_url == SLO_RUNBOOK
    assert ownership_for_labels(monitors, {"model": "fraud", "feature": "amount"}).runbook_url == MODEL_RUNBOOK
    assert ownership_for_labels(monitors, {"model": "fraud", "slo": ""}).owner == MODEL_OWNER


def test_an_alert_keeps_the_ownership_it_was_sent_with_and_fills_gaps_from_the_config() -> None:
    monitors = parse_monitors(document())
    sent = {"owner": "@someone-else", "runbook_url": "https://old.example.com/r"}
    assert alert_ownership(monitors, {"model": "fraud"}, sent) == Ownership("@someone-else", TEAM, "https://old.example.com/r")
    assert alert_ownership(monitors, {"model": "fraud"}, {}) == ownership_of(monitors.model("fraud"))


def test_annotations_round_trip_in_display_order() -> None:
    ownership = Ownership(MODEL_OWNER, TEAM, MODEL_RUNBOOK)
    assert list(ownership.annotations()) == ["owner", "team", "runbook_url"]
    assert Ownership.from_annotations({**ownership.annotations(), "summary": "x"}) == ownership
    assert Ownership(team=TEAM).annotations() == {"team": TEAM}


def test_the_example_config_declares_owners_and_runbooks() -> None:
    model = load_monitors(REPO_ROOT / "examples" / "monitors.yaml").models[0]
    own = ownership_of(model)
    assert own.owner and own.team and own.runbook_url and own.runbook_url.startswith("https://")
    accuracy = ownership_of(model, "accuracy")
    assert accuracy.owner != own.owner and accuracy.runbook_url != own.runbook_url and accuracy.team == own.team
